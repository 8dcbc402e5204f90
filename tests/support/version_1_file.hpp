// SPDX-License-Identifier: Apache-2.0
// A whole state file in format version 1 (docs/state-format.md: one TOTP secret, two
// 4096-byte slots), as builds before several authenticators per user wrote it: the record
// in slot 0 with its checksum, slot 1 never written. For tests of reading and upgrading.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <string>

#include "totp/base32.hpp"
#include "totp/user_state.hpp"

inline std::string version_1_file(const totp::SecretBytes& secret,
                                  std::optional<std::uint64_t> last_step,
                                  std::uint64_t sequence = 9) {
    std::string body = "pam_totp-state v1\nsequence=" + std::to_string(sequence) +
                       "\nalgorithm=SHA1\ndigits=6\nperiod=30\nsecret=";
    body += totp::base32_encode(secret.span()).view();
    body += "\nlast_step=" + (last_step ? std::to_string(*last_step) : std::string("none")) +
            "\nfailures=0\nlocked_until=0\ncreated=1732400000\nemail=alice@example.org\n"
            "email_verified=0\n";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr);
    std::string slot = body + "checksum=";
    for (unsigned int i = 0; i < length; ++i) {
        constexpr char kHex[] = "0123456789abcdef";
        slot += kHex[digest[i] >> 4];
        slot += kHex[digest[i] & 0x0f];
    }
    slot += "\n";
    slot.append(totp::kV1SlotSize - slot.size(), '\n');
    return slot + std::string(totp::kV1SlotSize, '\n');
}
