// SPDX-License-Identifier: Apache-2.0
#include "totp/user_state.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "totp/base32.hpp"
#include "totp/hex.hpp"

namespace totp {
namespace {

constexpr std::string_view kMagicV1 = "pam_totp-state v1";
constexpr std::string_view kMagic = "pam_totp-state v2";
constexpr std::string_view kChecksumKey = "checksum=";
constexpr std::size_t kChecksumHexLength = 64;
constexpr std::uint64_t kMaxTime =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
// Counters stay below 2^63 so that counter + hotp_window and PostgreSQL's bigint hold them.
constexpr std::uint64_t kMaxCounter = kMaxTime;

// The longest authenticator line: every field at its maximum.
constexpr std::size_t kMaxAuthenticatorLine =
    sizeof("authenticator=") + kMaxAuthenticatorName + sizeof(":totp:SHA512:8:300:") +
    (kMaxSecretBytes * 8 + 4) / 5 + sizeof(":18446744073709551615:-40:9223372036854775807");

// The longest record a valid state can produce: every variable field at its maximum.
// Keeping it below kSlotSize means encode_slot can only refuse states that fail validate().
constexpr std::size_t kMaxRecordLength =
    kMagic.size() + 1 + sizeof("sequence=18446744073709551615") + sizeof("failures=1000000") +
    sizeof("locked_until=9223372036854775807") + sizeof("created=9223372036854775807") +
    sizeof("email=") + kMaxEmailLength + sizeof("email_verified=0") +
    sizeof("email_mails=1000:9223372036854775807") + kMaxAuthenticators * kMaxAuthenticatorLine +
    kMaxRecoveryCodes * sizeof("recovery=:") + kMaxRecoveryCodes * 2 * (16 + 32) +
    kChecksumKey.size() + kChecksumHexLength + 1;
static_assert(kMaxRecordLength <= kSlotSize, "a maximal record must fit in one slot");

// The checksum protects against torn writes and stray edits, not against an attacker
// (who could recompute it); ownership and mode checks are what keep attackers out.
std::optional<std::string> sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
        length * 2 != kChecksumHexLength) {
        return std::nullopt;
    }
    return hex_encode({digest, length});
}

Error corrupt(std::string message) {
    return make_error(Errc::corrupt, std::move(message));
}

// Strict decimal: digits only, no sign, no leading zeros (except "0"), no overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value > max) {
        return std::nullopt;
    }
    return value;
}

Status validate_email(std::string_view email) {
    if (email.size() > kMaxEmailLength) {
        return make_error(
            Errc::invalid_argument,
            "email address is longer than " + std::to_string(kMaxEmailLength) + " characters");
    }
    std::size_t at_signs = 0;
    for (char c : email) {
        if (c <= ' ' || c > '~') {
            return make_error(Errc::invalid_argument,
                              "email address contains a space, control or non-ASCII character");
        }
        if (c == '@') ++at_signs;
    }
    if (at_signs != 1 || email.front() == '@' || email.back() == '@') {
        return make_error(Errc::invalid_argument, "email address must have the form local@domain");
    }
    return {};
}

class SlotBuilder {
  public:
    // A whole slot's room up front: growing would copy (and wipe) the secret each time.
    SlotBuilder() { text_.reserve(kSlotSize); }
    void line(std::string_view key, std::string_view value) {
        text_.append(key);
        text_.append("=");
        text_.append(value);
        text_.append("\n");
    }
    void magic() {
        text_.append(kMagic);
        text_.append("\n");
    }
    SecretString& text() { return text_; }

  private:
    SecretString text_;
};

constexpr std::string_view kKnownKeys[] = {
    "sequence",       "algorithm",   "digits",        "period",   "secret",
    "last_step",      "failures",    "locked_until",  "created",  "email",
    "email_verified", "email_mails", "authenticator", "recovery", "checksum"};

// Reads the record body line by line. Messages name keys but never echo a value: a
// value (or a line without '=') could be part of the secret.
class LineReader {
  public:
    explicit LineReader(std::string_view body) : rest_(body) {}

    bool at_end() const { return rest_.empty(); }
    std::size_t line_number() const { return line_number_; }

    std::string_view next_line() {
        const std::size_t end = rest_.find('\n');
        const std::string_view line = rest_.substr(0, end);
        rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
        ++line_number_;
        return line;
    }

    bool next_key_is(std::string_view key) const {
        return rest_.starts_with(key) && rest_.substr(key.size()).starts_with('=');
    }

    // The value of the next line, which must be `key=value`.
    Result<std::string_view> field(std::string_view key) {
        if (at_end()) {
            return corrupt("missing '" + std::string(key) + "' after line " +
                           std::to_string(line_number_));
        }
        const std::string_view line = next_line();
        const std::size_t equals = line.find('=');
        const std::string_view found =
            equals == std::string_view::npos ? std::string_view{} : line.substr(0, equals);
        if (found != key) {
            return corrupt(where() + "expected '" + std::string(key) + "', found " +
                           describe_key(found));
        }
        return line.substr(equals + 1);
    }

    std::string where() const { return "line " + std::to_string(line_number_) + ": "; }

  private:
    static std::string describe_key(std::string_view key) {
        for (std::string_view known : kKnownKeys) {
            if (key == known) return "'" + std::string(key) + "' (duplicate or out of order)";
        }
        return "an unknown key or a line without '='";
    }

    std::string_view rest_;
    std::size_t line_number_ = 0;
};

Result<std::uint64_t> number_field(LineReader& reader, std::string_view key, std::uint64_t max) {
    Result<std::string_view> value = reader.field(key);
    if (!value) return value.error();
    const std::optional<std::uint64_t> number = parse_decimal(*value, max);
    if (!number) {
        return corrupt(reader.where() + "'" + std::string(key) +
                       "' is not a decimal number from 0 to " + std::to_string(max));
    }
    return *number;
}

Result<SecretBytes> parse_secret(LineReader& reader, std::string_view value) {
    // Only the canonical encoding: base32_decode alone would also accept spaces, hyphens,
    // padding and lower case, and two spellings of one record would be confusing.
    for (char c : value) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
            return corrupt(reader.where() + "'secret' is not upper-case unpadded base32");
        }
    }
    Result<SecretBytes> secret = base32_decode(value);
    if (!secret) return corrupt(reader.where() + "'secret' is not valid base32");
    if (!equal_constant_time(base32_encode(secret->span()).view(), value)) {
        return corrupt(reader.where() + "'secret' is not canonical base32");
    }
    if (secret->size() < kMinSecretBytes || secret->size() > kMaxSecretBytes) {
        return corrupt(reader.where() + "'secret' must decode to " +
                       std::to_string(kMinSecretBytes) + " to " + std::to_string(kMaxSecretBytes) +
                       " bytes");
    }
    return secret;
}

Result<Algorithm> parse_algorithm_text(LineReader& reader, std::string_view text) {
    const std::optional<Algorithm> algorithm = parse_algorithm(text);
    if (!algorithm || algorithm_name(*algorithm) != text) {
        return corrupt(reader.where() + "'algorithm' must be SHA1, SHA256 or SHA512");
    }
    return *algorithm;
}

Result<std::optional<std::uint64_t>> parse_last_step(LineReader& reader, std::string_view text) {
    if (text == "none") return std::optional<std::uint64_t>{};
    const std::optional<std::uint64_t> step =
        parse_decimal(text, std::numeric_limits<std::uint64_t>::max());
    if (!step) return corrupt(reader.where() + "'last_step' must be 'none' or a decimal number");
    return std::optional<std::uint64_t>{*step};
}

// Strict signed decimal: "0", or an optional '-' and a number without leading zeros.
std::optional<std::int32_t> parse_offset(std::string_view text) {
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const std::optional<std::uint64_t> magnitude = parse_decimal(text, 1000000);
    if (!magnitude || (negative && *magnitude == 0)) return std::nullopt;
    const auto value = static_cast<std::int32_t>(*magnitude);
    return negative ? -value : value;
}

// The fields of a version 1 record that are now its one authenticator's.
Result<Authenticator> parse_v1_authenticator(LineReader& reader) {
    Authenticator token;
    token.name = std::string(kDefaultAuthenticatorName);
    Result<std::string_view> algorithm = reader.field("algorithm");
    if (!algorithm) return algorithm.error();
    Result<Algorithm> parsed = parse_algorithm_text(reader, *algorithm);
    if (!parsed) return parsed.error();
    token.params.algorithm = *parsed;

    Result<std::uint64_t> digits = number_field(reader, "digits", kMaxDigits);
    if (!digits) return digits.error();
    token.params.digits = static_cast<int>(*digits);
    Result<std::uint64_t> period = number_field(reader, "period", kMaxPeriod);
    if (!period) return period.error();
    token.params.period = static_cast<int>(*period);
    if (Status params = validate(token.params); !params) {
        return corrupt(reader.where() + params.error().message);
    }

    Result<std::string_view> secret_text = reader.field("secret");
    if (!secret_text) return secret_text.error();
    Result<SecretBytes> secret = parse_secret(reader, *secret_text);
    if (!secret) return secret.error();
    token.secret = std::move(*secret);

    Result<std::string_view> last_step = reader.field("last_step");
    if (!last_step) return last_step.error();
    Result<std::optional<std::uint64_t>> step = parse_last_step(reader, *last_step);
    if (!step) return step.error();
    token.last_step = *step;
    return token;
}

// Splits `text` at ':' into exactly `parts.size()` pieces; false if the count differs.
template <std::size_t N>
bool split_fields(std::string_view text, std::array<std::string_view, N>& parts) {
    for (std::size_t i = 0; i < N; ++i) {
        const std::size_t colon = text.find(':');
        if ((colon == std::string_view::npos) != (i == N - 1)) return false;
        parts[i] = text.substr(0, colon);
        text.remove_prefix(colon == std::string_view::npos ? text.size() : colon + 1);
    }
    return true;
}

// authenticator=<name>:<type>:<algorithm>:<digits>:<period>:<secret>:<replay>:<offset>:
// <last_used>, where <replay> is the last step (or none) of a TOTP token and the next
// counter of an HOTP token.
Result<Authenticator> parse_authenticator_value(LineReader& reader, std::string_view value) {
    std::array<std::string_view, 9> part{};
    if (!split_fields(value, part)) {
        return corrupt(reader.where() + "'authenticator' must have 9 fields separated by ':'");
    }
    Authenticator token;
    token.name = std::string(part[0]);
    const std::optional<OtpType> type = parse_type(part[1]);
    if (!type) return corrupt(reader.where() + "'authenticator' type must be totp or hotp");
    token.type = *type;
    Result<Algorithm> algorithm = parse_algorithm_text(reader, part[2]);
    if (!algorithm) return algorithm.error();
    token.params.algorithm = *algorithm;
    const std::optional<std::uint64_t> digits = parse_decimal(part[3], kMaxDigits);
    const std::optional<std::uint64_t> period = parse_decimal(part[4], kMaxPeriod);
    if (!digits || !period) {
        return corrupt(reader.where() + "'authenticator' digits or period is not a number");
    }
    token.params.digits = static_cast<int>(*digits);
    token.params.period = static_cast<int>(*period);
    Result<SecretBytes> secret = parse_secret(reader, part[5]);
    if (!secret) return secret.error();
    token.secret = std::move(*secret);
    if (token.type == OtpType::totp) {
        Result<std::optional<std::uint64_t>> step = parse_last_step(reader, part[6]);
        if (!step) return step.error();
        token.last_step = *step;
    } else {
        const std::optional<std::uint64_t> counter = parse_decimal(part[6], kMaxCounter);
        if (!counter) return corrupt(reader.where() + "'authenticator' counter out of range");
        token.counter = *counter;
    }
    const std::optional<std::int32_t> offset = parse_offset(part[7]);
    const std::optional<std::uint64_t> last_used = parse_decimal(part[8], kMaxTime);
    if (!offset || !last_used) {
        return corrupt(reader.where() + "'authenticator' offset or last use is not a number");
    }
    token.offset = *offset;
    token.last_used = static_cast<std::int64_t>(*last_used);
    if (Status valid = validate(token); !valid) {
        return corrupt(reader.where() + valid.error().message);
    }
    return token;
}

// failures .. email_mails: the lines both versions share, in the same order.
Status parse_account_fields(LineReader& reader, UserState& state) {
    Result<std::uint64_t> failures = number_field(reader, "failures", kMaxFailures);
    if (!failures) return failures.error();
    state.failures = static_cast<std::uint32_t>(*failures);

    Result<std::uint64_t> locked_until = number_field(reader, "locked_until", kMaxTime);
    if (!locked_until) return locked_until.error();
    state.locked_until = static_cast<std::int64_t>(*locked_until);

    Result<std::uint64_t> created = number_field(reader, "created", kMaxTime);
    if (!created) return created.error();
    state.created = static_cast<std::int64_t>(*created);

    Result<std::string_view> email = reader.field("email");
    if (!email) return email.error();
    if (!email->empty()) {
        if (Status valid = validate_email(*email); !valid) {
            return corrupt(reader.where() + valid.error().message);
        }
    }
    state.email = std::string(*email);

    Result<std::uint64_t> verified = number_field(reader, "email_verified", 1);
    if (!verified) return verified.error();
    state.email_verified = *verified == 1;
    if (state.email_verified && state.email.empty()) {
        return corrupt(reader.where() + "'email_verified' is 1 but no email is recorded");
    }
    // Present only once a verification mail was counted (records written before it existed
    // have none).
    if (reader.next_key_is("email_mails")) {
        Result<std::string_view> mails = reader.field("email_mails");
        if (!mails) return mails.error();
        const std::size_t colon = mails->find(':');
        const std::optional<std::uint64_t> count =
            colon == std::string_view::npos
                ? std::nullopt
                : parse_decimal(mails->substr(0, colon), kMaxEmailMails);
        const std::optional<std::uint64_t> since =
            colon == std::string_view::npos ? std::nullopt
                                            : parse_decimal(mails->substr(colon + 1), kMaxTime);
        if (!count || *count == 0 || !since) {
            return corrupt(reader.where() + "'email_mails' must be <count 1.." +
                           std::to_string(kMaxEmailMails) + ">:<Unix time>");
        }
        state.email_mails = static_cast<std::uint32_t>(*count);
        state.email_mails_since = static_cast<std::int64_t>(*since);
    }

    return {};
}

Status parse_authenticators(LineReader& reader, UserState& state) {
    while (reader.next_key_is("authenticator")) {
        Result<std::string_view> text = reader.field("authenticator");
        if (!text) return text.error();
        if (state.authenticators.size() >= kMaxAuthenticators) {
            return corrupt(reader.where() + "more than " + std::to_string(kMaxAuthenticators) +
                           " authenticators");
        }
        Result<Authenticator> token = parse_authenticator_value(reader, *text);
        if (!token) return token.error();
        if (find_authenticator(state, token->name) != nullptr) {
            return corrupt(reader.where() + "two authenticators have one name");
        }
        state.authenticators.push_back(std::move(*token));
    }
    if (state.authenticators.empty()) {
        return corrupt(reader.where() + "no 'authenticator' line");
    }
    return {};
}

Status parse_recovery_lines(LineReader& reader, UserState& state) {
    while (reader.next_key_is("recovery")) {
        Result<std::string_view> text = reader.field("recovery");
        if (!text) return text.error();
        if (state.recovery.size() == kMaxRecoveryCodes) {
            return corrupt(reader.where() + "more than " + std::to_string(kMaxRecoveryCodes) +
                           " recovery lines");
        }
        // parse_recovery_hash accepts only the canonical form encode_slot writes.
        const std::optional<RecoveryHash> hash = parse_recovery_hash(*text);
        if (!hash) {
            return corrupt(reader.where() +
                           "'recovery' must be <32 hex digit salt>:<64 hex digit digest>");
        }
        state.recovery.push_back(*hash);
    }

    return {};
}

// Everything above the checksum line, checked line by line in the fixed order.
Result<DecodedSlot> parse_body(std::string_view body, int version) {
    LineReader reader(body);
    DecodedSlot decoded;
    UserState& state = decoded.state;

    const std::string_view magic = version == 1 ? kMagicV1 : kMagic;
    if (reader.next_line() != magic) {
        return corrupt("line 1: not a '" + std::string(magic) + "' record");
    }

    Result<std::uint64_t> sequence =
        number_field(reader, "sequence", std::numeric_limits<std::uint64_t>::max());
    if (!sequence) return sequence.error();
    decoded.sequence = *sequence;

    if (version == 1) {
        Result<Authenticator> token = parse_v1_authenticator(reader);
        if (!token) return token.error();
        state.authenticators.push_back(std::move(*token));
    }
    if (Status account = parse_account_fields(reader, state); !account) return account.error();
    if (version != 1) {
        if (Status tokens = parse_authenticators(reader, state); !tokens) return tokens.error();
    }
    if (Status recovery = parse_recovery_lines(reader, state); !recovery) {
        return recovery.error();
    }

    if (!reader.at_end()) {
        reader.next_line();
        return corrupt(reader.where() + "unexpected line before 'checksum'");
    }
    if (Status valid = validate(state); !valid) return corrupt(valid.error().message);
    return decoded;
}

// The sequence a slot claims before any check, to tell which of two bad slots was the
// newer write when both fail (that failure is the one worth reporting).
std::optional<std::uint64_t> claimed_sequence(std::string_view slot, std::string_view magic) {
    const std::string prefix = std::string(magic) + "\nsequence=";
    if (!slot.starts_with(prefix)) return std::nullopt;
    slot.remove_prefix(prefix.size());
    return parse_decimal(slot.substr(0, slot.find('\n')),
                         std::numeric_limits<std::uint64_t>::max());
}

// The record above the checksum line of a slot whose checksum holds.
Result<std::string_view> checked_body(std::string_view slot, std::size_t slot_size) {
    if (slot.size() != slot_size) {
        return corrupt("slot is " + std::to_string(slot.size()) + " bytes, expected " +
                       std::to_string(slot_size));
    }
    if (slot.find_first_not_of('\n') == std::string_view::npos) {
        return corrupt("slot is empty (never written)");
    }
    // The first line that starts with "checksum=" ends the record; no earlier line can,
    // since every earlier line starts with a different key.
    const std::size_t newline = slot.find(std::string("\n") + std::string(kChecksumKey));
    if (newline == std::string_view::npos) {
        return corrupt("no checksum line (torn write?)");
    }
    const std::string_view body = slot.substr(0, newline + 1);
    std::string_view after = slot.substr(newline + 1 + kChecksumKey.size());
    if (after.size() <= kChecksumHexLength || after[kChecksumHexLength] != '\n') {
        return corrupt("malformed checksum line");
    }

    const std::optional<std::string> expected = sha256_hex(body);
    if (!expected) return corrupt("SHA-256 failed (OpenSSL error)");
    if (CRYPTO_memcmp(expected->data(), after.data(), kChecksumHexLength) != 0) {
        return corrupt("checksum mismatch (torn write or edited by hand)");
    }
    after.remove_prefix(kChecksumHexLength + 1);
    if (after.find_first_not_of('\n') != std::string_view::npos) {
        return corrupt("data after the checksum line");
    }
    return body;
}

}  // namespace

// The value of an authenticator line (see parse_authenticator_value).
SecretString format_authenticator(const Authenticator& token) {
    SecretString line;
    line.reserve(kMaxAuthenticatorLine);
    line.append(token.name);
    line.append(":");
    line.append(type_name(token.type));
    line.append(":");
    line.append(algorithm_name(token.params.algorithm));
    line.append(":" + std::to_string(token.params.digits) + ":" +
                std::to_string(token.params.period) + ":");
    line.append(base32_encode(token.secret.span()).view());
    line.append(":");
    if (token.type == OtpType::hotp) {
        line.append(std::to_string(token.counter));
    } else {
        line.append(token.last_step ? std::to_string(*token.last_step) : "none");
    }
    line.append(":" + std::to_string(token.offset) + ":" + std::to_string(token.last_used));
    return line;
}

namespace {

// Replay protection is per authenticator: two with one secret would each accept the same
// code once, so a record never holds that. "One secret" is what HMAC makes of it: a secret
// with zero bytes appended is the same key. Either's algorithm counts, so that a copy under
// another algorithm stays refused as well.
bool same_secret(const Authenticator& a, const Authenticator& b) {
    return same_hmac_key(a.params.algorithm, a.secret, b.secret) ||
           (b.params.algorithm != a.params.algorithm &&
            same_hmac_key(b.params.algorithm, a.secret, b.secret));
}

}  // namespace

Result<Authenticator> parse_authenticator(std::string_view text) {
    LineReader reader(text);
    return parse_authenticator_value(reader, text);
}

std::string_view type_name(OtpType type) {
    return type == OtpType::hotp ? "hotp" : "totp";
}

std::optional<OtpType> parse_type(std::string_view name) {
    if (name == "totp") return OtpType::totp;
    if (name == "hotp") return OtpType::hotp;
    return std::nullopt;
}

Authenticator Authenticator::clone() const {
    Authenticator copy;
    copy.name = name;
    copy.type = type;
    copy.params = params;
    copy.secret = secret.clone();
    copy.last_step = last_step;
    copy.counter = counter;
    copy.offset = offset;
    copy.last_used = last_used;
    return copy;
}

UserState UserState::clone() const {
    UserState copy;
    for (const Authenticator& token : authenticators) copy.authenticators.push_back(token.clone());
    copy.failures = failures;
    copy.locked_until = locked_until;
    copy.recovery = recovery;
    copy.created = created;
    copy.email = email;
    copy.email_verified = email_verified;
    copy.email_mails = email_mails;
    copy.email_mails_since = email_mails_since;
    return copy;
}

Status validate(const Authenticator& token) {
    const bool name_ok = !token.name.empty() && token.name.size() <= kMaxAuthenticatorName &&
                         token.name.front() != '-' &&
                         std::all_of(token.name.begin(), token.name.end(), [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                         });
    if (!name_ok) {
        return make_error(Errc::invalid_argument,
                          "authenticator name must be 1 to " +
                              std::to_string(kMaxAuthenticatorName) +
                              " letters, digits, '.', '_' or '-', not starting with '-'");
    }
    if (Status params = validate(token.params); !params) return params;
    if (token.secret.size() < kMinSecretBytes || token.secret.size() > kMaxSecretBytes) {
        return make_error(Errc::invalid_argument,
                          "secret must be " + std::to_string(kMinSecretBytes) + " to " +
                              std::to_string(kMaxSecretBytes) + " bytes, not " +
                              std::to_string(token.secret.size()));
    }
    if (token.type == OtpType::hotp && (token.offset != 0 || token.last_step)) {
        return make_error(Errc::invalid_argument, "an HOTP token has no clock offset or step");
    }
    if (token.type == OtpType::totp && token.counter != 0) {
        return make_error(Errc::invalid_argument, "a TOTP token has no counter");
    }
    if (token.counter > kMaxCounter) {
        return make_error(Errc::invalid_argument, "HOTP counter is 2^63 or more");
    }
    const std::int64_t offset_seconds =
        static_cast<std::int64_t>(token.offset) * static_cast<std::int64_t>(token.params.period);
    if (offset_seconds > kMaxClockOffsetSeconds || offset_seconds < -kMaxClockOffsetSeconds) {
        return make_error(
            Errc::invalid_argument,
            "clock offset is more than " + std::to_string(kMaxClockOffsetSeconds) + " s");
    }
    if (token.last_used < 0) {
        return make_error(Errc::invalid_argument, "last use time is negative");
    }
    return {};
}

Status add_authenticator(UserState& state, Authenticator authenticator, std::size_t max_count) {
    if (Status valid = validate(authenticator); !valid) return valid;
    if (find_authenticator(state, authenticator.name) != nullptr) {
        return make_error(Errc::invalid_argument,
                          "an authenticator named '" + authenticator.name + "' exists already");
    }
    for (const Authenticator& other : state.authenticators) {
        if (same_secret(other, authenticator)) {
            return make_error(Errc::invalid_argument,
                              "authenticator '" + other.name + "' has this secret already");
        }
    }
    if (state.authenticators.size() >= std::min(max_count, kMaxAuthenticators)) {
        return make_error(Errc::invalid_argument,
                          "already " + std::to_string(state.authenticators.size()) +
                              " authenticators, the most allowed (max_authenticators)");
    }
    state.authenticators.push_back(std::move(authenticator));
    return {};
}

Authenticator* find_authenticator(UserState& state, std::string_view name) {
    for (Authenticator& token : state.authenticators) {
        if (token.name == name) return &token;
    }
    return nullptr;
}

const Authenticator* find_authenticator(const UserState& state, std::string_view name) {
    for (const Authenticator& token : state.authenticators) {
        if (token.name == name) return &token;
    }
    return nullptr;
}

Status remove_authenticator(UserState& state, std::string_view name) {
    const auto found = std::find_if(state.authenticators.begin(), state.authenticators.end(),
                                    [&](const Authenticator& token) { return token.name == name; });
    if (found == state.authenticators.end()) {
        return make_error(Errc::not_found, "no authenticator named '" + std::string(name) + "'");
    }
    if (state.authenticators.size() == 1) {
        return make_error(Errc::invalid_argument,
                          "'" + std::string(name) + "' is the only authenticator");
    }
    state.authenticators.erase(found);
    return {};
}

Status replace_authenticators(UserState& state, const UserState& previous, std::size_t max_count) {
    std::vector<Authenticator> kept;
    for (const Authenticator& token : previous.authenticators) {
        if (find_authenticator(state, token.name) == nullptr) kept.push_back(token.clone());
    }
    const std::size_t after = state.authenticators.size() + kept.size();
    const std::size_t most = std::min(max_count, kMaxAuthenticators);
    if (after > previous.authenticators.size() && after > most) {
        return make_error(Errc::invalid_argument,
                          "would have " + std::to_string(after) +
                              " authenticators, more than max_authenticators (" +
                              std::to_string(most) + "); remove one first");
    }
    for (Authenticator& token : kept) state.authenticators.push_back(std::move(token));
    return {};
}

Status validate(const UserState& state) {
    if (state.authenticators.empty() || state.authenticators.size() > kMaxAuthenticators) {
        return make_error(
            Errc::invalid_argument,
            "a record holds 1 to " + std::to_string(kMaxAuthenticators) + " authenticators");
    }
    for (std::size_t i = 0; i < state.authenticators.size(); ++i) {
        if (Status token = validate(state.authenticators[i]); !token) return token;
        for (std::size_t j = 0; j < i; ++j) {
            if (state.authenticators[j].name == state.authenticators[i].name) {
                return make_error(Errc::invalid_argument, "two authenticators have one name");
            }
            if (same_secret(state.authenticators[j], state.authenticators[i])) {
                // HMAC pads a short key with zero bytes (and hashes a long one), so two such
                // keys give the same codes, each with a replay record of its own: a code
                // would be accepted twice. Refused on reading too (fail closed).
                return make_error(Errc::invalid_argument,
                                  "authenticators '" + state.authenticators[j].name + "' and '" +
                                      state.authenticators[i].name +
                                      "' have one HMAC key (the same secret, or one with zero "
                                      "bytes added)");
            }
        }
    }
    if (state.failures > kMaxFailures) {
        return make_error(Errc::invalid_argument,
                          "failure count is above " + std::to_string(kMaxFailures));
    }
    if (state.locked_until < 0) {
        return make_error(Errc::invalid_argument, "lockout time is negative");
    }
    if (state.created < 0) {
        return make_error(Errc::invalid_argument, "enrollment time is negative");
    }
    if (state.recovery.size() > kMaxRecoveryCodes) {
        return make_error(Errc::invalid_argument,
                          "more than " + std::to_string(kMaxRecoveryCodes) + " recovery codes");
    }
    if (!state.email.empty()) {
        if (Status email = validate_email(state.email); !email) return email;
    }
    if (state.email_verified && state.email.empty()) {
        return make_error(Errc::invalid_argument,
                          "email is marked verified but no address is recorded");
    }
    if (state.email_mails > kMaxEmailMails || state.email_mails_since < 0 ||
        (state.email_mails == 0 && state.email_mails_since != 0)) {
        return make_error(Errc::invalid_argument, "email mail count out of range");
    }
    return {};
}

Result<SecretString> encode_slot(const UserState& state, std::uint64_t sequence) {
    if (Status valid = validate(state); !valid) {
        return make_error(Errc::invalid_argument, valid.error().message);
    }
    SlotBuilder slot;
    slot.magic();
    slot.line("sequence", std::to_string(sequence));
    slot.line("failures", std::to_string(state.failures));
    slot.line("locked_until", std::to_string(state.locked_until));
    slot.line("created", std::to_string(state.created));
    slot.line("email", state.email);
    slot.line("email_verified", state.email_verified ? "1" : "0");
    if (state.email_mails > 0) {
        slot.line("email_mails", std::to_string(state.email_mails) + ":" +
                                     std::to_string(state.email_mails_since));
    }
    for (const Authenticator& token : state.authenticators) {
        slot.line("authenticator", format_authenticator(token).view());
    }
    for (const RecoveryHash& hash : state.recovery) {
        slot.line("recovery", format_recovery_hash(hash));
    }

    const std::optional<std::string> checksum = sha256_hex(slot.text().view());
    if (!checksum) {
        return make_error(Errc::io, "SHA-256 of the state record failed (OpenSSL error)");
    }
    slot.line("checksum", *checksum);

    SecretString& text = slot.text();
    if (text.size() > kSlotSize) {
        return make_error(Errc::invalid_argument, "state record is " + std::to_string(text.size()) +
                                                      " bytes, more than a slot holds (" +
                                                      std::to_string(kSlotSize) + ")");
    }
    text.append(kSlotSize - text.size(), '\n');
    // `text` refers into `slot`: moving is what keeps the secret from being copied.
    // cppcheck-suppress returnStdMoveLocal
    return std::move(text);
}

Result<DecodedSlot> decode_slot(std::string_view slot) {
    Result<std::string_view> body = checked_body(slot, kSlotSize);
    if (!body) return body.error();
    return parse_body(*body, kStateFormatVersion);
}

// The slot claiming the newer sequence is checked (checksum, then parse) first; the other
// only when that fails. A slot claiming an older sequence could never be chosen over a
// whole newer one, so it is not looked at then (the next update overwrites it anyway).
Result<DecodedFile> decode_file(std::string_view file) {
    if (file.size() != kStateFileSize && file.size() != kV1StateFileSize) {
        return corrupt("state file is " + std::to_string(file.size()) + " bytes, expected " +
                       std::to_string(kStateFileSize));
    }
    const int version = file.size() == kStateFileSize ? kStateFormatVersion : 1;
    const std::size_t slot_size = file.size() / 2;
    const std::string_view magic = version == 1 ? kMagicV1 : kMagic;
    const std::string_view slots[2] = {file.substr(0, slot_size), file.substr(slot_size)};
    const std::optional<std::uint64_t> claimed[2] = {claimed_sequence(slots[0], magic),
                                                     claimed_sequence(slots[1], magic)};
    // Equal sequences never come from our writer; either record is whole, so slot 0 first.
    const std::size_t newer = claimed[1] && (!claimed[0] || *claimed[1] > *claimed[0]) ? 1 : 0;
    const std::size_t order[2] = {newer, 1 - newer};

    std::optional<Error> failures[2];
    for (const std::size_t slot : order) {
        Result<std::string_view> body = checked_body(slots[slot], slot_size);
        Result<DecodedSlot> decoded =
            body ? parse_body(*body, version) : Result<DecodedSlot>(body.error());
        if (!decoded) {
            failures[slot] = decoded.error();
            continue;
        }
        DecodedFile result;
        result.state = std::move(decoded->state);
        result.sequence = decoded->sequence;
        result.next_slot = 1 - slot;
        result.version = version;
        return result;
    }
    return corrupt("no valid slot: slot " + std::to_string(order[0]) + ": " +
                   failures[order[0]]->message + "; slot " + std::to_string(order[1]) + ": " +
                   failures[order[1]]->message);
}

}  // namespace totp
