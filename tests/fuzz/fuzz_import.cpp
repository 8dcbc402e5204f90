// SPDX-License-Identifier: Apache-2.0
// The migration imports of totp-enroll: ~/.google_authenticator files and pam_oath users
// files (written by users, or by whoever had their accounts before). Parsing never
// crashes; what is accepted is within our limits; error and skip messages never contain
// the secret or a scratch code.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "import_formats.hpp"
#include "import_plan.hpp"
#include "totp/base32.hpp"
#include "totp/user_state.hpp"

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(separator, start), text.size());
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    for (std::string_view part : split(line, ' ')) {
        for (std::string_view word : split(part, '\t')) {
            if (!word.empty()) out.push_back(word);
        }
    }
    return out;
}

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The secrets of a google-authenticator file: the key (first line) and the scratch codes.
std::vector<std::string_view> google_secrets(std::string_view text) {
    std::vector<std::string_view> secrets;
    const auto lines = split(text, '\n');
    if (!lines.empty() && lines[0].size() >= 16) secrets.push_back(lines[0]);
    for (std::string_view line : lines) {
        if (line.size() == 8 && all_digits(line)) secrets.push_back(line);
    }
    return secrets;
}

// The secrets of a pam_oath users file: each line's PIN and key.
std::vector<std::string_view> oath_secrets(std::string_view text) {
    std::vector<std::string_view> secrets;
    for (std::string_view line : split(text, '\n')) {
        const auto fields = words(line);
        if (fields.size() > 2 && fields[2].size() >= 6) secrets.push_back(fields[2]);
        if (fields.size() > 3 && fields[3].size() >= 16) secrets.push_back(fields[3]);
    }
    return secrets;
}

// The text with `secret` (which occurs once) replaced by a different string of the same
// shape: digits stay digits, hex letters hex letters, other letters letters.
std::string with_other_secret(std::string_view text, std::string_view secret) {
    std::string other(secret);
    for (char& c : other) {
        if (c >= '0' && c <= '9')
            c = static_cast<char>('0' + (c - '0' + 1) % 10);
        else if (c >= 'a' && c <= 'f')
            c = static_cast<char>('a' + (c - 'a' + 1) % 6);
        else if (c >= 'A' && c <= 'F')
            c = static_cast<char>('A' + (c - 'A' + 1) % 6);
        else if (c >= 'g' && c <= 'z')
            c = static_cast<char>('g' + (c - 'g' + 1) % 20);
        else if (c >= 'G' && c <= 'Z')
            c = static_cast<char>('G' + (c - 'G' + 1) % 20);
    }
    std::string changed(text);
    changed.replace(text.find(secret), secret.size(), other);
    return changed;
}

// A message repeats a secret: it holds a secret that occurs once in the file, and no longer
// holds it when that secret is changed (so the words were the file's, not the message's own
// text, as "pected" is in "malformed line (expected ...").
template <class Reparse>
bool leaks(std::string_view message, std::string_view text,
           const std::vector<std::string_view>& secrets, Reparse reparse) {
    for (std::string_view secret : secrets) {
        const bool unique = text.find(secret) == text.rfind(secret);
        if (!unique || message.find(secret) == std::string_view::npos) continue;
        if (reparse(with_other_secret(text, secret)).find(secret) == std::string::npos) {
            return true;
        }
    }
    return false;
}

// Messages reach a terminal (root's, importing a user's file) and the log.
bool printable(std::string_view message) {
    return std::all_of(message.begin(), message.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

// What decide_imports() makes of the tokens is a record the store writes: every user's
// record validates and fits a slot, and each stored token is one authenticator of it.
void check_plan(const std::vector<totp_enroll::ImportedToken>& tokens) {
    constexpr std::int64_t kNow = 1700000000;
    for (const totp_enroll::UserImport& user :
         totp_enroll::decide_imports(tokens, totp::kMaxAuthenticators, kNow)) {
        std::size_t stored = 0;
        for (const totp_enroll::ImportDecision& decision : user.decisions) {
            if (!printable(decision.not_imported)) {
                fuzz::violated("import reason holds a control character");
            }
            if (decision.name.empty() == decision.not_imported.empty()) {
                fuzz::violated("a token is neither stored nor explained, or both");
            }
            if (!decision.name.empty()) ++stored;
        }
        if (stored != user.state.authenticators.size()) {
            fuzz::violated("stored tokens and authenticators differ in number");
        }
        if (stored == 0) continue;
        if (!totp::validate(user.state)) fuzz::violated("a planned record does not validate");
        if (!totp::encode_slot(user.state, 1)) fuzz::violated("a planned record does not fit");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const bool oath = input.flag();
    const std::string text = input.rest();

    if (!oath) {
        totp::Result<totp_enroll::GoogleAuthenticatorFile> parsed =
            totp_enroll::parse_google_authenticator(text);
        if (!parsed) {
            const std::string& message = parsed.error().message;
            const auto reparse = [](const std::string& other) {
                auto again = totp_enroll::parse_google_authenticator(other);
                return again ? std::string() : again.error().message;
            };
            if (leaks(message, text, google_secrets(text), reparse))
                fuzz::violated("error message repeats a secret", message);
            if (!printable(message)) fuzz::violated("error message holds a control character");
            return 0;
        }
        if (parsed->secret.empty()) fuzz::violated("accepted an empty secret");
        if (parsed->step_size < totp::kMinPeriod || parsed->step_size > totp::kMaxPeriod)
            fuzz::violated("accepted a step size we cannot use");
        for (const auto& code : parsed->scratch_codes) {
            if (code.empty()) fuzz::violated("empty scratch code");
        }
        return 0;
    }
    const auto secrets = oath_secrets(text);
    const std::vector<totp_enroll::ImportedToken> tokens = totp_enroll::parse_oath_usersfile(text);
    check_plan(tokens);
    for (const totp_enroll::ImportedToken& entry : tokens) {
        const auto reparse = [&entry](const std::string& other) {
            for (const totp_enroll::ImportedToken& again :
                 totp_enroll::parse_oath_usersfile(other)) {
                if (again.origin == entry.origin) return again.skipped;
            }
            return std::string();
        };
        if (leaks(entry.skipped, text, secrets, reparse))
            fuzz::violated("skip reason repeats a secret", entry.skipped);
        if (!printable(entry.skipped)) fuzz::violated("skip reason holds a control character");
        if (!entry.skipped.empty()) continue;
        if (!totp::validate(entry.params))
            fuzz::violated("importable entry with unusable parameters");
        if (entry.secret.empty()) fuzz::violated("importable entry without a secret");
        if (entry.user.empty()) fuzz::violated("importable entry without a user");
    }
    return 0;
}
