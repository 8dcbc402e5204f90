// SPDX-License-Identifier: Apache-2.0
// Stored reset-token entries: decoding never crashes and accepts only the canonical layout
// (encode(decode(x)) == x); any entry the service could store decodes back to itself.
// Input: a mode byte, then raw entry text, or a body sealed with a correct checksum line,
// or the fields of an entry to encode.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "totp/reset_token.hpp"

namespace {

std::string seal(std::string body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    body += "checksum=";
    for (unsigned int i = 0; i < length; ++i) {
        body += kHex[digest[i] >> 4];
        body += kHex[digest[i] & 0x0f];
    }
    return body + "\n";
}

void check_decoded(const std::string& text) {
    totp::Result<totp::ResetTokenEntry> entry = totp::decode_reset_entry(text);
    if (!entry) {
        if (entry.error().code != totp::Errc::corrupt)
            fuzz::violated("decode error is not 'corrupt'");
        return;
    }
    totp::Result<std::string> again = totp::encode_reset_entry(*entry);
    if (!again) fuzz::violated("a decoded entry does not encode", again.error().message);
    if (*again != text) fuzz::violated("accepted a non-canonical entry");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    switch (input.byte() % 3) {
        case 0:
            check_decoded(input.rest());
            break;
        case 1:
            check_decoded(seal(input.rest()));
            break;
        default: {
            totp::ResetTokenEntry entry;
            entry.user = input.text(300);
            for (auto& byte : entry.verifier_hash) byte = input.byte();
            entry.expires = static_cast<std::int64_t>(input.u64());
            totp::Result<std::string> text = totp::encode_reset_entry(entry);
            if (!text) break;
            if (text->size() > totp::kMaxResetEntryLength) fuzz::violated("entry over its maximum");
            totp::Result<totp::ResetTokenEntry> back = totp::decode_reset_entry(*text);
            if (!back || back->user != entry.user || back->verifier_hash != entry.verifier_hash ||
                back->expires != entry.expires)
                fuzz::violated("an encoded entry does not decode to itself");
        }
    }
    return 0;
}
