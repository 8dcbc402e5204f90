// SPDX-License-Identifier: Apache-2.0
#include "qr_image.hpp"

#include <png.h>

#include <cstring>

#include "files.hpp"
#include "qr_matrix.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {
namespace {

constexpr int kQuietZone = 4;  // what the QR specification asks for around a printed code
constexpr int kPixelsPerModule = 8;

std::optional<QrMatrix> matrix_for(std::string_view text) {
    return encode_qr(text, kQuietZone);
}

totp::Error not_encodable(const std::string& path) {
    return totp::make_error(totp::Errc::io,
                            "cannot write " + path + ": the key does not fit in a QR code");
}

}  // namespace

totp::Status write_qr_png(const std::string& path, std::string_view text) {
    const std::optional<QrMatrix> matrix = matrix_for(text);
    if (!matrix) return not_encodable(path);

    const int side = matrix->size * kPixelsPerModule;
    totp::SecretBytes pixels(static_cast<std::size_t>(side) * side);  // 8-bit grey
    for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
            const bool dark = matrix->at(x / kPixelsPerModule, y / kPixelsPerModule);
            pixels.data()[static_cast<std::size_t>(y) * side + x] = dark ? 0x00 : 0xff;
        }
    }

    // libpng's simplified API: no setjmp, errors come back as a return value.
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = static_cast<png_uint_32>(side);
    image.height = static_cast<png_uint_32>(side);
    image.format = PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr)) {
        png_image_free(&image);
        return totp::make_error(totp::Errc::io,
                                "cannot encode " + path + " as PNG: " + image.message);
    }
    totp::SecretBytes encoded(size);
    if (!png_image_write_to_memory(&image, encoded.data(), &size, 0, pixels.data(), 0, nullptr)) {
        png_image_free(&image);
        return totp::make_error(totp::Errc::io,
                                "cannot encode " + path + " as PNG: " + image.message);
    }
    png_image_free(&image);
    return write_private_file(path, {reinterpret_cast<const char*>(encoded.data()), size});
}

totp::Status write_qr_svg(const std::string& path, std::string_view text) {
    const std::optional<QrMatrix> matrix = matrix_for(text);
    if (!matrix) return not_encodable(path);

    const std::string modules = std::to_string(matrix->size);
    const std::string pixels = std::to_string(matrix->size * kPixelsPerModule);
    totp::SecretString svg(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
        pixels + "\" height=\"" + pixels + "\" viewBox=\"0 0 " + modules + " " + modules +
        "\" shape-rendering=\"crispEdges\">\n" + "<rect width=\"" + modules + "\" height=\"" +
        modules + "\" fill=\"#ffffff\"/>\n" + "<path fill=\"#000000\" stroke=\"none\" d=\"");
    // One unit square per dark module.
    for (int y = 0; y < matrix->size; ++y) {
        for (int x = 0; x < matrix->size; ++x) {
            if (!matrix->at(x, y)) continue;
            svg.append("M" + std::to_string(x) + " " + std::to_string(y) + "h1v1h-1z");
        }
    }
    svg.append("\"/>\n</svg>\n");
    return write_private_file(path, svg.view());
}

}  // namespace totp_enroll
