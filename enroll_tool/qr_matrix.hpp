// SPDX-License-Identifier: Apache-2.0
// The module matrix of a QR code, from libqrencode; shared by the terminal and image
// renderers.
#pragma once

#include <optional>
#include <string_view>

#include "totp/secret.hpp"

namespace totp_enroll {

struct QrMatrix {
    int size = 0;            // modules per side, quiet zone included
    totp::SecretBytes dark;  // size * size bytes, 1 = dark (wiped: the code holds the secret)

    bool at(int x, int y) const {
        if (x < 0 || y < 0 || x >= size || y >= size) return false;
        return dark.data()[y * size + x] != 0;
    }
};

// `text` as 8-bit data, error correction L, surrounded by `quiet_zone` light modules;
// nullopt if libqrencode could not encode it.
std::optional<QrMatrix> encode_qr(std::string_view text, int quiet_zone);

}  // namespace totp_enroll
