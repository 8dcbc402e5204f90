// SPDX-License-Identifier: Apache-2.0
// The state file parser: whatever is on disk, decoding never crashes, and whatever it
// accepts is canonical (re-encoding a decoded slot gives back exactly the same bytes).
//
// Input: one mode byte, then either raw file bytes, or a record body that the harness
// seals with a correct checksum line (random bytes almost never pass the checksum, and
// the line parser behind it must be fuzzed too).
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "totp/user_state.hpp"

namespace {

bool same_state(const totp::UserState& a, const totp::UserState& b) {
    return a.params.algorithm == b.params.algorithm && a.params.digits == b.params.digits &&
           a.params.period == b.params.period && a.secret.size() == b.secret.size() &&
           std::equal(a.secret.data(), a.secret.data() + a.secret.size(), b.secret.data()) &&
           a.last_step == b.last_step && a.failures == b.failures &&
           a.locked_until == b.locked_until && a.recovery == b.recovery && a.created == b.created &&
           a.email == b.email && a.email_verified == b.email_verified;
}

void check_slot(std::string_view slot) {
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(slot);
    if (!decoded) {
        if (decoded.error().code != totp::Errc::corrupt)
            fuzz::violated("decode error is not 'corrupt'");
        return;
    }
    if (!totp::validate(decoded->state)) fuzz::violated("decoded state does not validate");
    totp::Result<totp::SecretString> encoded = totp::encode_slot(decoded->state, decoded->sequence);
    if (!encoded) fuzz::violated("decoded state does not encode", encoded.error().message);
    if (encoded->view() != slot) fuzz::violated("accepted slot is not in canonical form");
}

// body + "checksum=<sha256 hex of body>\n", padded with newlines to a slot.
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
    body += '\n';
    if (body.size() < totp::kSlotSize) body.resize(totp::kSlotSize, '\n');
    return body;
}

void check_file(std::string_view candidate) {
    totp::Result<totp::DecodedFile> decoded = totp::decode_file(candidate);
    if (!decoded) {
        if (decoded.error().code != totp::Errc::corrupt)
            fuzz::violated("decode error is not 'corrupt'");
        return;
    }
    if (candidate.size() != totp::kStateFileSize) fuzz::violated("accepted a wrong-sized file");
    if (decoded->next_slot > 1) fuzz::violated("next_slot out of range");
    const std::string_view current =
        candidate.substr((1 - decoded->next_slot) * totp::kSlotSize, totp::kSlotSize);
    totp::Result<totp::DecodedSlot> slot = totp::decode_slot(current);
    if (!slot || slot->sequence != decoded->sequence || !same_state(slot->state, decoded->state)) {
        fuzz::violated("decode_file did not return the current slot");
    }
    // The other slot, if valid, is never newer.
    totp::Result<totp::DecodedSlot> other =
        totp::decode_slot(candidate.substr(decoded->next_slot * totp::kSlotSize, totp::kSlotSize));
    if (other && other->sequence > decoded->sequence) fuzz::violated("picked the older slot");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::uint8_t mode = input.byte();
    if (mode % 2 == 0) {
        // Raw bytes: the size check, then (padded to a file) the checksum and slot framing.
        const std::string bytes = input.rest();
        check_file(bytes);
        std::string file = bytes.substr(0, totp::kStateFileSize);
        file.resize(totp::kStateFileSize, '\n');
        check_file(file);
        check_slot(std::string_view(file).substr(0, totp::kSlotSize));
        check_slot(std::string_view(file).substr(totp::kSlotSize));
        return 0;
    }
    // A sealed record body in one slot, raw bytes (often another sealed body) in the other.
    const std::string first = seal(input.long_text(2 * totp::kSlotSize));
    const bool second_sealed = input.flag();
    std::string second = second_sealed ? seal(input.long_text(2 * totp::kSlotSize)) : input.rest();
    second.resize(totp::kSlotSize, '\n');
    check_slot(first);
    if (first.size() != totp::kSlotSize) return 0;  // the body did not fit in a slot
    check_slot(second);
    check_file((mode & 2) ? first + second : second + first);
    return 0;
}
