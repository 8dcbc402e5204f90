// QR codes for the terminal, drawn with libqrencode's module matrix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace totp_enroll {

enum class QrStyle {
    utf8,           // half blocks, dark modules drawn on a light terminal background
    utf8_inverted,  // half blocks for light-on-dark terminals
    ansi,           // two spaces per module with ANSI background colours
};

// The QR code of `text` (error correction L, quiet zone of 2 modules), or nullopt if
// libqrencode could not encode it.
std::optional<std::string> render_qr(std::string_view text, QrStyle style);

// Width in terminal columns that render_qr would need.
std::optional<int> qr_width(std::string_view text, QrStyle style);

}  // namespace totp_enroll
