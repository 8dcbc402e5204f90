// SPDX-License-Identifier: Apache-2.0
// Recovery codes as typed at the prompt, and their stored hashes: normalizing never
// crashes, is idempotent and yields only what a code can contain; a hashed code is
// found again; stored hash text round-trips exactly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "totp/recovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::string typed = input.text(64);
    const std::string stored = input.rest();

    if (const auto normalized = totp::normalize_recovery_code(typed)) {
        const std::string_view code = normalized->view();
        if (code.size() < 6 || code.size() > 32) fuzz::violated("normalized length");
        for (char c : code) {
            const bool ok = (c >= '0' && c <= '9') ||
                            (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O');
            if (!ok) fuzz::violated("normalized code holds an ambiguous or foreign character");
        }
        const auto twice = totp::normalize_recovery_code(code);
        if (!twice || twice->view() != code) fuzz::violated("normalizing is not idempotent");

        totp::Result<totp::RecoveryHash> hash = totp::hash_recovery_code(code);
        if (!hash) fuzz::violated("hashing a normalized code failed", hash.error().message);
        std::vector<totp::RecoveryHash> hashes(3);
        hashes[1] = *hash;
        const auto found = totp::find_recovery_code(hashes, code);
        if (!found || *found != 1) fuzz::violated("hashed code not found");
        const auto parsed = totp::parse_recovery_hash(totp::format_recovery_hash(*hash));
        if (!parsed || !(*parsed == *hash)) fuzz::violated("hash text round trip");
    }

    if (const auto parsed = totp::parse_recovery_hash(stored)) {
        if (totp::format_recovery_hash(*parsed) != stored)
            fuzz::violated("accepted non-canonical hash text");
    }
    return 0;
}
