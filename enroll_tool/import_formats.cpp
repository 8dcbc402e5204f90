// SPDX-License-Identifier: Apache-2.0
#include "import_formats.hpp"

#include <charconv>
#include <ctime>
#include <limits>

#include "totp/base32.hpp"
#include "totp/hex.hpp"
#include "totp/recovery.hpp"
#include "totp/text.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {
namespace {

constexpr std::size_t kScratchCodeLength = 8;
constexpr std::size_t kMaxScratchCodes = totp::kMaxRecoveryCodes;

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (line.ends_with('\r')) line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

template <class Number>
std::optional<Number> parse_number(std::string_view text) {
    Number number{};
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, number);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return number;
}

totp::Error bad_line(std::size_t number, const std::string& why) {
    return totp::make_error(totp::Errc::invalid_argument,
                            "line " + std::to_string(number) + ": " + why);
}

// Applies one `" OPTION args...` line; an error names the option, never a value.
std::optional<totp::Error> apply_option(std::size_t number, std::string_view line,
                                        GoogleAuthenticatorFile& file) {
    const std::vector<std::string_view> fields = split_fields(line.substr(2));
    if (fields.empty()) return bad_line(number, "empty option line");
    const std::string_view name = fields[0];
    const auto numbers_after = [&](std::size_t first) {
        for (std::size_t i = first; i < fields.size(); ++i) {
            if (!totp::all_digits(fields[i])) return false;
        }
        return true;
    };
    if (name == "TOTP_AUTH") {
        if (fields.size() != 1) return bad_line(number, "TOTP_AUTH takes no value");
        return std::nullopt;
    }
    if (name == "HOTP_COUNTER") {
        const auto counter =
            fields.size() == 2 ? parse_number<std::uint64_t>(fields[1]) : std::nullopt;
        if (!counter) return bad_line(number, "HOTP_COUNTER needs a number");
        file.hotp_counter = *counter;
        return std::nullopt;
    }
    if (name == "STEP_SIZE" || name == "WINDOW_SIZE") {
        const auto value = fields.size() == 2 ? parse_number<int>(fields[1]) : std::nullopt;
        if (!value || *value < 1) {
            return bad_line(number, std::string(name) + " needs a positive number");
        }
        if (name == "STEP_SIZE") {
            if (*value < totp::kMinPeriod || *value > totp::kMaxPeriod) {
                return totp::make_error(totp::Errc::unsupported,
                                        "STEP_SIZE " + std::to_string(*value) +
                                            " is outside the supported 15-300 seconds");
            }
            file.step_size = *value;
        } else {
            file.window_size = *value;
        }
        return std::nullopt;
    }
    if (name == "RATE_LIMIT") {
        if (fields.size() < 3 || !numbers_after(1)) {
            return bad_line(number, "RATE_LIMIT needs numbers");
        }
        file.rate_limit = true;
        return std::nullopt;
    }
    if (name == "DISALLOW_REUSE") {
        if (!numbers_after(1)) return bad_line(number, "DISALLOW_REUSE lists numbers only");
        file.disallow_reuse = true;
        for (std::size_t i = 1; i < fields.size(); ++i) {
            const auto step = parse_number<std::uint64_t>(fields[i]);
            if (!step) return bad_line(number, "DISALLOW_REUSE value out of range");
            if (!file.last_used_step || *step > *file.last_used_step) file.last_used_step = *step;
        }
        return std::nullopt;
    }
    if (name == "TIME_SKEW" || name == "RESETTING_TIME_SKEW") {
        file.time_skew = true;
        return std::nullopt;
    }
    return bad_line(number, "unknown option '" + totp::printable(name, 32) + "'");
}

std::optional<std::string> parse_oath_digits(std::string_view text, totp::OtpParams& params) {
    const auto digits = parse_number<int>(text);
    if (!digits || *digits < totp::kMinDigits || *digits > totp::kMaxDigits) {
        return "unsupported number of digits (6, 7 or 8 are)";
    }
    params.digits = *digits;
    return std::nullopt;
}

// "HOTP", "HOTP/E/8", "HOTP/T30", "HOTP/T60/8": the type, period and digits, or why the
// type is not imported.
std::optional<std::string> parse_oath_type(std::string_view type, ImportedToken& token) {
    token.params = {totp::Algorithm::sha1, 6, 30};
    if (type == "HOTP" || type == "HOTP/E") {
        token.type = totp::OtpType::hotp;
        return std::nullopt;
    }
    if (type.starts_with("HOTP/E/")) {
        token.type = totp::OtpType::hotp;
        return parse_oath_digits(type.substr(7), token.params);
    }
    if (!type.starts_with("HOTP/T")) return "unknown token type";
    token.type = totp::OtpType::totp;
    const std::string_view rest = type.substr(6);
    const std::size_t slash = rest.find('/');
    const auto period = parse_number<int>(rest.substr(0, slash));
    if (!period) return "unknown token type";
    if (*period < totp::kMinPeriod || *period > totp::kMaxPeriod) {
        return "time step " + std::to_string(*period) + " s is outside the supported 15-300 s";
    }
    token.params.period = *period;
    if (slash == std::string_view::npos) return std::nullopt;
    return parse_oath_digits(rest.substr(slash + 1), token.params);
}

// pam_oath's TIME field, "2024-01-31T12:00:00L" (local time, as liboath writes it) or with
// "Z" (UTC).
std::optional<std::int64_t> parse_oath_time(std::string_view text) {
    if (text.size() != 20 || (text.back() != 'L' && text.back() != 'Z')) return std::nullopt;
    const std::string digits(text.substr(0, 19));
    std::tm parts{};
    const char* end = ::strptime(digits.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
    if (end == nullptr || *end != '\0') return std::nullopt;
    parts.tm_isdst = -1;
    const std::time_t time = text.back() == 'Z' ? ::timegm(&parts) : std::mktime(&parts);
    if (time == static_cast<std::time_t>(-1)) return std::nullopt;
    return static_cast<std::int64_t>(time);
}

// COUNTER [LASTOTP [TIME]], as pam_oath writes them after a login: a HOTP token continues
// after the counter pam_oath accepted; a TOTP token keeps the step of that login used.
std::optional<std::string> parse_oath_use(const std::vector<std::string_view>& fields,
                                          ImportedToken& token) {
    if (fields.size() < 5) return std::nullopt;
    const auto counter = parse_number<std::uint64_t>(fields[4]);
    if (!counter) return "malformed counter field";
    const bool used = fields.size() >= 6;
    if (used && !totp::all_digits(fields[5])) return "malformed last-OTP field";
    std::optional<std::int64_t> time;
    if (fields.size() >= 7) {
        time = parse_oath_time(fields[6]);
        if (!time) return "malformed time field";
    }
    if (token.type == totp::OtpType::hotp) {
        if (used && *counter == std::numeric_limits<std::uint64_t>::max()) {
            return "the counter is exhausted";
        }
        token.counter = *counter + (used ? 1 : 0);
    } else if (time) {
        token.last_used_step = totp::time_step(*time, token.params.period);
    }
    return std::nullopt;
}

ImportedToken parse_oath_line(std::size_t number, const std::vector<std::string_view>& fields) {
    ImportedToken token;
    token.origin = "line " + std::to_string(number);
    token.label = "line-" + std::to_string(number);
    if (fields.size() >= 2) token.user = std::string(fields[1]);
    if (fields.size() < 4) {
        token.skipped = "malformed line (expected TYPE USER PIN SECRET)";
        return token;
    }
    if (fields.size() > 7) {
        token.skipped = "malformed line (too many fields)";
        return token;
    }
    if (auto reason = parse_oath_type(fields[0], token)) {
        token.skipped = *reason;
        return token;
    }
    token.has_pin = fields[2] != "-";
    std::optional<totp::SecretBytes> secret =
        totp::hex_decode_secret(fields[3], totp::HexLetters::either_case);
    if (!secret) {
        token.skipped = "the secret is not an even number of hex digits";
        return token;
    }
    if (secret->size() < totp::kMinSecretBytes || secret->size() > totp::kMaxSecretBytes) {
        token.skipped =
            "the secret is " + std::to_string(secret->size()) + " bytes (10-128 are supported)";
        return token;
    }
    if (auto reason = parse_oath_use(fields, token)) {
        token.skipped = *reason;
        return token;
    }
    token.secret = std::move(*secret);
    return token;
}

}  // namespace

totp::Result<GoogleAuthenticatorFile> parse_google_authenticator(std::string_view text) {
    if (text.size() > kMaxGoogleAuthenticatorFile) {
        return totp::make_error(totp::Errc::invalid_argument, "file too large");
    }
    const std::vector<std::string_view> lines = split_lines(text);
    if (lines.empty() || lines[0].empty()) {
        return totp::make_error(totp::Errc::invalid_argument, "line 1: no secret");
    }
    GoogleAuthenticatorFile file;
    totp::Result<totp::SecretBytes> secret = totp::base32_decode(lines[0]);
    if (!secret) return bad_line(1, "the secret is not valid base32");
    if (secret->size() < totp::kMinSecretBytes || secret->size() > totp::kMaxSecretBytes) {
        return bad_line(
            1, "the secret is " + std::to_string(secret->size()) + " bytes (10-128 are supported)");
    }
    file.secret = std::move(*secret);

    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::size_t number = i + 1;
        const std::string_view line = lines[i];
        if (line.empty()) continue;
        if (line.starts_with("\" ")) {
            if (auto error = apply_option(number, line, file)) return *error;
        } else if (line.size() == kScratchCodeLength && totp::all_digits(line)) {
            if (file.scratch_codes.size() == kMaxScratchCodes) {
                return bad_line(number,
                                "more than " + std::to_string(kMaxScratchCodes) + " scratch codes");
            }
            file.scratch_codes.emplace_back(line);
        } else {
            return bad_line(number, "neither an option nor an 8-digit scratch code");
        }
    }
    return file;
}

ImportedToken google_authenticator_token(const GoogleAuthenticatorFile& file,
                                         const std::string& user) {
    ImportedToken token;
    token.user = user;
    token.label = "google-authenticator";
    token.origin = "the google-authenticator file";
    token.type = file.hotp_counter ? totp::OtpType::hotp : totp::OtpType::totp;
    token.secret = file.secret.clone();
    token.params = {totp::Algorithm::sha1, 6, file.step_size};
    token.counter = file.hotp_counter.value_or(0);
    token.last_used_step = file.last_used_step;
    return token;
}

std::vector<ImportedToken> parse_oath_usersfile(std::string_view text) {
    std::vector<ImportedToken> entries;
    const std::vector<std::string_view> lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::vector<std::string_view> fields = split_fields(lines[i]);
        if (fields.empty() || fields[0].starts_with('#')) continue;
        entries.push_back(parse_oath_line(i + 1, fields));
    }
    return entries;
}

}  // namespace totp_enroll
