// SPDX-License-Identifier: Apache-2.0
// PSKC (RFC 6030), the XML container hardware-token vendors ship seeds in: a pure parser
// (no I/O) from the document's text to neutral tokens, decrypting with the key the caller
// gives. Error messages name the element or KeyPackage, never a secret or a password.
// The first call makes libxml2's allocator (process-wide) wipe every block it frees.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "import_formats.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {

inline constexpr std::size_t kMaxPskcFile = 16 * 1024 * 1024;

// How the container's encrypted values are opened (RFC 6030 section 6): a pre-shared
// AES key (<ds:KeyName>) or a password for the PBKDF2-derived key (<DerivedKey>).
struct PskcKey {
    std::optional<totp::SecretBytes> preshared;
    std::optional<totp::SecretString> password;
};

// Every <Key> of every <KeyPackage>, in order: label = the device's SerialNo (the Key's Id
// when there is none), user left empty. A key this parser cannot turn into a code
// generator (another algorithm, no secret, non-decimal codes ...) comes back with
// `skipped` set. Errc::invalid_argument for a document that is not PSKC, an encryption or
// MAC it does not support, a missing or wrong key (the MAC does not match): then no
// token is returned at all.
totp::Result<std::vector<ImportedToken>> parse_pskc(std::string_view xml, const PskcKey& key);

}  // namespace totp_enroll
