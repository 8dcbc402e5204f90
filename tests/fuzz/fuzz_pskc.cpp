// SPDX-License-Identifier: Apache-2.0
// PSKC (RFC 6030) containers for totp-enroll import-pskc: XML from a token vendor, parsed
// with libxml2 and decrypted with OpenSSL. The first byte picks the key the importer is
// given (none, RFC 6030's pre-shared key, or its example password "qwerty"), so the seed
// corpus (RFC 6030's examples) reaches decryption and MAC checks. Parsing never crashes
// or leaks; an error is one printable line without the password; a key that can be
// imported has a secret and parameters the store accepts.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "import_pskc.hpp"
#include "totp/otp.hpp"
#include "totp/user_state.hpp"

namespace {

constexpr std::string_view kPassword = "qwerty";

totp_enroll::PskcKey key_for(std::uint8_t choice) {
    totp_enroll::PskcKey key;
    if (choice % 3 == 1) {
        const std::uint8_t bytes[16] = {0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
                                        0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12};
        key.preshared = totp::SecretBytes(bytes, sizeof bytes);
    } else if (choice % 3 == 2) {
        key.password = totp::SecretString(kPassword);
    }
    return key;
}

// Messages reach root's terminal: one line, no control characters.
bool one_printable_line(std::string_view message) {
    return std::all_of(message.begin(), message.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const totp_enroll::PskcKey key = key_for(input.byte());
    const std::string xml = input.rest();
    totp::Result<std::vector<totp_enroll::ImportedToken>> tokens =
        totp_enroll::parse_pskc(xml, key);
    if (!tokens) {
        const std::string& message = tokens.error().message;
        if (message.empty()) fuzz::violated("empty error message");
        if (!one_printable_line(message)) fuzz::violated("error message is not one line", message);
        if (message.find(kPassword) != std::string::npos &&
            xml.find(kPassword) == std::string::npos)
            fuzz::violated("error message holds the password", message);
        return 0;
    }
    if (tokens->empty()) fuzz::violated("success without a token");
    for (const totp_enroll::ImportedToken& token : *tokens) {
        if (!one_printable_line(token.skipped) || !one_printable_line(token.origin))
            fuzz::violated("a reason or origin is not one printable line", token.origin);
        if (!token.user.empty()) fuzz::violated("the parser chose a user");
        if (!token.skipped.empty()) continue;
        if (token.secret.size() < totp::kMinSecretBytes ||
            token.secret.size() > totp::kMaxSecretBytes)
            fuzz::violated("importable key with a secret the store refuses");
        if (!totp::validate(token.params))
            fuzz::violated("importable key with parameters the store refuses");
    }
    return 0;
}
