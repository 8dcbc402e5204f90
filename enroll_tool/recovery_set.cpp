// SPDX-License-Identifier: Apache-2.0
#include "recovery_set.hpp"

#include "errors.hpp"
#include "terminal.hpp"
#include "totp/translation.hpp"

namespace totp_enroll {

totp::Result<RecoverySet> make_recovery_set(int count) {
    RecoverySet set;
    if (count <= 0) return set;
    totp::Result<std::vector<totp::SecretString>> codes = totp::generate_recovery_codes(count);
    if (!codes) return runtime_failure(codes.error());
    for (const totp::SecretString& code : *codes) {
        const std::optional<totp::SecretString> normalized =
            totp::normalize_recovery_code(code.view());
        if (!normalized) {
            return totp::make_error(totp::Errc::io,
                                    "generated recovery code has an unexpected form");
        }
        totp::Result<totp::RecoveryHash> hash = totp::hash_recovery_code(normalized->view());
        if (!hash) return runtime_failure(hash.error());
        set.hashes.push_back(*hash);
    }
    set.codes = std::move(*codes);
    return set;
}

void print_recovery_codes(const RecoverySet& set) {
    if (set.codes.empty()) return;
    say(totp::translate("Recovery codes (each works once; store them safely):"));
    for (const totp::SecretString& code : set.codes) say(code.view());
}

}  // namespace totp_enroll
