// SPDX-License-Identifier: Apache-2.0
// The state file parser: whatever is on disk, decoding never crashes, and whatever it
// accepts is canonical (re-encoding a decoded slot gives back exactly the same bytes). A
// version 1 file it accepts upgrades to a version 2 record holding the same state.
//
// Input: one mode byte, then either raw file bytes, or a record body that the harness
// seals with a correct checksum line (random bytes almost never pass the checksum, and
// the line parser behind it must be fuzzed too), in version 2 or version 1 slots.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "totp/user_state.hpp"

namespace {

bool same_token(const totp::Authenticator& a, const totp::Authenticator& b) {
    return a.name == b.name && a.type == b.type && a.params.algorithm == b.params.algorithm &&
           a.params.digits == b.params.digits && a.params.period == b.params.period &&
           a.secret.size() == b.secret.size() &&
           std::equal(a.secret.data(), a.secret.data() + a.secret.size(), b.secret.data()) &&
           a.last_step == b.last_step && a.counter == b.counter && a.offset == b.offset &&
           a.last_used == b.last_used;
}

bool same_state(const totp::UserState& a, const totp::UserState& b) {
    if (a.authenticators.size() != b.authenticators.size()) return false;
    for (std::size_t i = 0; i < a.authenticators.size(); ++i) {
        if (!same_token(a.authenticators[i], b.authenticators[i])) return false;
    }
    return a.failures == b.failures && a.locked_until == b.locked_until &&
           a.recovery == b.recovery && a.created == b.created && a.email == b.email &&
           a.email_verified == b.email_verified && a.email_mails == b.email_mails &&
           a.email_mails_since == b.email_mails_since;
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
std::string seal(std::string body, std::size_t slot_size = totp::kSlotSize) {
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
    if (body.size() < slot_size) body.resize(slot_size, '\n');
    return body;
}

void check_file(std::string_view candidate) {
    totp::Result<totp::DecodedFile> decoded = totp::decode_file(candidate);
    if (!decoded) {
        if (decoded.error().code != totp::Errc::corrupt)
            fuzz::violated("decode error is not 'corrupt'");
        return;
    }
    if (decoded->next_slot > 1) fuzz::violated("next_slot out of range");
    if (candidate.size() == totp::kV1StateFileSize && decoded->version == 1) {
        // The next save writes the same state as a version 2 record.
        totp::Result<totp::SecretString> upgraded =
            totp::encode_slot(decoded->state, decoded->sequence + 1);
        if (!upgraded) fuzz::violated("version 1 state does not encode", upgraded.error().message);
        totp::Result<totp::DecodedSlot> again = totp::decode_slot(upgraded->view());
        if (!again || !same_state(again->state, decoded->state)) {
            fuzz::violated("version 1 state changed in the upgrade");
        }
        return;
    }
    if (candidate.size() != totp::kStateFileSize || decoded->version != totp::kStateFormatVersion) {
        fuzz::violated("accepted a wrong-sized file");
    }
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
    if (mode % 4 == 3) {
        // A sealed body in a version 1 slot, the other slot never written.
        std::string v1 = seal(input.long_text(totp::kV1SlotSize), totp::kV1SlotSize);
        if (v1.size() != totp::kV1SlotSize) return 0;
        check_file((mode & 4) ? v1 + std::string(totp::kV1SlotSize, '\n')
                              : std::string(totp::kV1SlotSize, '\n') + v1);
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
