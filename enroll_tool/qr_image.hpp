// SPDX-License-Identifier: Apache-2.0
// The QR code as an image file, for scanning from another screen or printing.
#pragma once

#include <string>
#include <string_view>

#include "totp/result.hpp"

namespace totp_enroll {

// A black-on-white QR code of `text` (8 pixels per module, 4-module quiet zone), written
// with write_private_file: mode 0600, atomically, with the current rights.
totp::Status write_qr_png(const std::string& path, std::string_view text);
totp::Status write_qr_svg(const std::string& path, std::string_view text);

}  // namespace totp_enroll
