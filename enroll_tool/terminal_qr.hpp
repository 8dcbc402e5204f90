// SPDX-License-Identifier: Apache-2.0
// QR codes for the terminal, drawn from libqrencode's module matrix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace totp_enroll {

enum class QrStyle {
    utf8,           // half blocks drawn where modules are light: for light-on-dark terminals
    utf8_inverted,  // half blocks drawn where modules are dark: for dark-on-light terminals
    ansi,           // two spaces per module with black and white ANSI backgrounds
};

// The QR code of `text` (error correction L, quiet zone of 2 modules), or nullopt if
// libqrencode could not encode it.
std::optional<std::string> render_qr(std::string_view text, QrStyle style);

// Width in terminal columns that render_qr would need.
std::optional<int> qr_width(std::string_view text, QrStyle style);

}  // namespace totp_enroll
