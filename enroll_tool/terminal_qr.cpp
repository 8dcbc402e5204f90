#include "terminal_qr.hpp"

#include <qrencode.h>

#include <memory>
#include <string>
#include <vector>

namespace totp_enroll {
namespace {

constexpr int kQuietZone = 2;

struct QrDeleter {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

// The module matrix with its quiet zone: true = dark.
struct Matrix {
    int size = 0;
    std::vector<bool> dark;
    bool at(int x, int y) const {
        if (x < 0 || y < 0 || x >= size || y >= size) return false;
        return dark[static_cast<std::size_t>(y * size + x)];
    }
};

std::optional<Matrix> encode(std::string_view text) {
    const std::string input(text);
    std::unique_ptr<QRcode, QrDeleter> code(
        QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_L));
    if (!code) return std::nullopt;
    Matrix matrix;
    const int inner = code->width;
    matrix.size = inner + 2 * kQuietZone;
    matrix.dark.assign(static_cast<std::size_t>(matrix.size * matrix.size), false);
    for (int y = 0; y < inner; ++y) {
        for (int x = 0; x < inner; ++x) {
            const bool dark = (code->data[y * inner + x] & 1) != 0;
            matrix.dark[static_cast<std::size_t>((y + kQuietZone) * matrix.size + x + kQuietZone)] =
                dark;
        }
    }
    return matrix;
}

// Two module rows per text line. In the normal style a character cell shows a light
// module as a block (so dark modules are the terminal's dark background... inverted for
// light terminals): we draw light modules, which reads correctly on dark terminals.
std::string half_blocks(const Matrix& matrix, bool draw_dark) {
    std::string out;
    for (int y = 0; y < matrix.size; y += 2) {
        for (int x = 0; x < matrix.size; ++x) {
            const bool top = matrix.at(x, y) == draw_dark;
            const bool bottom = matrix.at(x, y + 1) == draw_dark;
            if (y + 1 >= matrix.size) {
                out += top ? "\u2580" : " ";
            } else if (top && bottom) {
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

std::string ansi_blocks(const Matrix& matrix) {
    std::string out;
    for (int y = 0; y < matrix.size; ++y) {
        for (int x = 0; x < matrix.size; ++x) out += matrix.at(x, y) ? "\x1b[40m  " : "\x1b[47m  ";
        out += "\x1b[0m\n";
    }
    return out;
}

}  // namespace

std::optional<std::string> render_qr(std::string_view text, QrStyle style) {
    const std::optional<Matrix> matrix = encode(text);
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
    const std::optional<Matrix> matrix = encode(text);
    if (!matrix) return std::nullopt;
    return style == QrStyle::ansi ? 2 * matrix->size : matrix->size;
}

}  // namespace totp_enroll
