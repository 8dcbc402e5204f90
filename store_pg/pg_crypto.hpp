// SPDX-License-Identifier: Apache-2.0
// AES-256-GCM for the columns that must not be readable from a database dump: a fresh
// random 12-byte nonce per write, and associated data naming the row (user, column) so
// a ciphertext copied into another user's row does not decrypt.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp::pg {

// nonce (12) || ciphertext || tag (16)
Result<std::vector<std::uint8_t>> seal(const SecretBytes& key, std::string_view associated,
                                       std::span<const std::uint8_t> plaintext);

// Errc::corrupt when the tag does not verify (wrong key, tampered or swapped row).
Result<SecretBytes> unseal(const SecretBytes& key, std::string_view associated,
                           std::span<const std::uint8_t> sealed);

}  // namespace totp::pg
