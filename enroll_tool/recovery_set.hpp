// SPDX-License-Identifier: Apache-2.0
// A fresh set of recovery codes: the codes, shown to their owner once, and the hashes
// the store keeps.
#pragma once

#include <vector>

#include "totp/recovery.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {

struct RecoverySet {
    std::vector<totp::SecretString> codes;  // XXXX-XXXX-XXXX
    std::vector<totp::RecoveryHash> hashes;
};

// `count` codes (0 gives an empty set).
totp::Result<RecoverySet> make_recovery_set(int count);

// The header line and one code per line (nothing for an empty set).
void print_recovery_codes(const RecoverySet& set);

}  // namespace totp_enroll
