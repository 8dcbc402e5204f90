// SPDX-License-Identifier: Apache-2.0
#include "terminal_qr.hpp"

#include "qr_matrix.hpp"

namespace totp_enroll {
namespace {

constexpr int kQuietZone = 2;

// Two module rows per text line: a character cell is a full, upper, lower or no block
// depending on which of its two modules are drawn.
std::string half_blocks(const QrMatrix& matrix, bool draw_dark) {
    std::string out;
    for (int y = 0; y < matrix.size; y += 2) {
        for (int x = 0; x < matrix.size; ++x) {
            const bool top = matrix.at(x, y) == draw_dark;
            const bool bottom = y + 1 < matrix.size && matrix.at(x, y + 1) == draw_dark;
            if (top && bottom) {
                out += "\u2588";
            } else if (top) {
                out += "\u2580";
            } else if (bottom) {
                out += "\u2584";
            } else {
                out += " ";
            }
        }
        out += "\n";
    }
    return out;
}

std::string ansi_blocks(const QrMatrix& matrix) {
    std::string out;
    for (int y = 0; y < matrix.size; ++y) {
        for (int x = 0; x < matrix.size; ++x) out += matrix.at(x, y) ? "\x1b[40m  " : "\x1b[47m  ";
        out += "\x1b[0m\n";
    }
    return out;
}

}  // namespace

std::optional<std::string> render_qr(std::string_view text, QrStyle style) {
    const std::optional<QrMatrix> matrix = encode_qr(text, kQuietZone);
    if (!matrix) return std::nullopt;
    switch (style) {
        case QrStyle::utf8:
            return half_blocks(*matrix, /*draw_dark=*/false);
        case QrStyle::utf8_inverted:
            return half_blocks(*matrix, /*draw_dark=*/true);
        case QrStyle::ansi:
            return ansi_blocks(*matrix);
    }
    return std::nullopt;
}

std::optional<int> qr_width(std::string_view text, QrStyle style) {
    const std::optional<QrMatrix> matrix = encode_qr(text, kQuietZone);
    if (!matrix) return std::nullopt;
    return style == QrStyle::ansi ? 2 * matrix->size : matrix->size;
}

}  // namespace totp_enroll
