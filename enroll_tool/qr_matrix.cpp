// SPDX-License-Identifier: Apache-2.0
#include "qr_matrix.hpp"

#include <qrencode.h>

#include <cstring>
#include <memory>

namespace totp_enroll {
namespace {

struct QrDeleter {
    void operator()(QRcode* code) const {
        totp::wipe(code->data, static_cast<std::size_t>(code->width) * code->width);
        QRcode_free(code);
    }
};

}  // namespace

std::optional<QrMatrix> encode_qr(std::string_view text, int quiet_zone) {
    const totp::SecretString input(text);  // libqrencode wants a C string
    const std::unique_ptr<QRcode, QrDeleter> code(
        QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_L));
    if (!code) return std::nullopt;
    const int inner = code->width;
    QrMatrix matrix;
    matrix.size = inner + 2 * quiet_zone;
    matrix.dark = totp::SecretBytes(static_cast<std::size_t>(matrix.size) * matrix.size);
    std::memset(matrix.dark.data(), 0, matrix.dark.size());
    for (int y = 0; y < inner; ++y) {
        for (int x = 0; x < inner; ++x) {
            matrix.dark.data()[(y + quiet_zone) * matrix.size + x + quiet_zone] =
                code->data[y * inner + x] & 1;
        }
    }
    return matrix;
}

}  // namespace totp_enroll
