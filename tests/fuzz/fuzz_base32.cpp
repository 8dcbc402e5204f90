// SPDX-License-Identifier: Apache-2.0
// Base32 (secrets typed or pasted by users, imported from other modules): decoding never
// crashes, and what it accepts round-trips through the encoder.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "totp/base32.hpp"

namespace {

bool same(const totp::SecretBytes& a, std::span<const std::uint8_t> b) {
    return a.size() == b.size() && std::equal(b.begin(), b.end(), a.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // Encoding any bytes gives canonical text that decodes back to them.
    const totp::SecretString encoded = totp::base32_encode({data, size});
    for (char c : encoded.view()) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) fuzz::violated("encoder output");
    }
    if (size > 0) {
        totp::Result<totp::SecretBytes> back = totp::base32_decode(encoded.view());
        if (!back || !same(*back, {data, size})) fuzz::violated("encode/decode round trip");
    }

    totp::Result<totp::SecretBytes> decoded = totp::base32_decode(text);
    if (!decoded) {
        if (decoded.error().code != totp::Errc::invalid_argument) fuzz::violated("error code");
        // The message names a position, never the input (which may be a secret): no run of
        // 8 canonical symbols from the input shows up in it.
        const std::string& message = decoded.error().message;
        for (std::size_t i = 0; i + 8 <= text.size(); ++i) {
            const std::string_view run = text.substr(i, 8);
            const bool canonical = std::all_of(run.begin(), run.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
            });
            if (canonical && message.find(run) != std::string::npos)
                fuzz::violated("error message echoes the input");
        }
        return 0;
    }
    if (decoded->empty()) fuzz::violated("accepted input without symbols");
    // Accepted text holds only symbols, separators and padding, and carries whole bytes.
    std::size_t symbols = 0;
    for (char c : text) {
        if (c == ' ' || c == '-' || c == '=') continue;
        if (!std::isalnum(static_cast<unsigned char>(c)))
            fuzz::violated("accepted a stray character");
        ++symbols;
    }
    if (decoded->size() != symbols * 5 / 8) fuzz::violated("decoded length");
    // Re-encoding and decoding again is stable.
    totp::Result<totp::SecretBytes> again =
        totp::base32_decode(totp::base32_encode(decoded->span()).view());
    if (!again || !same(*again, decoded->span())) fuzz::violated("decode/encode/decode");
    return 0;
}
