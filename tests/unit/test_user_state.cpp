// SPDX-License-Identifier: Apache-2.0
// The state record format: exact text, round trips, strict parsing, two-slot selection.
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "one_token.hpp"
#include "totp/base32.hpp"
#include "totp/user_state.hpp"

// CMocka last: it needs these C headers first, its fail() macro would break <ios>, and
// 1.1.5 declares its functions without extern "C".
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace {

using totp::Errc;
using totp::UserState;

const std::uint8_t kRfcKey[] = "12345678901234567890";
constexpr std::string_view kRfcKeyBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

totp::SecretBytes bytes_of(std::size_t size, std::uint8_t seed) {
    totp::SecretBytes bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes.data()[i] = static_cast<std::uint8_t>(seed + i);
    return bytes;
}

totp::RecoveryHash recovery_hash(std::uint8_t seed) {
    totp::RecoveryHash hash;
    for (std::size_t i = 0; i < hash.salt.size(); ++i)
        hash.salt[i] = static_cast<std::uint8_t>(seed + i);
    for (std::size_t i = 0; i < hash.digest.size(); ++i) {
        hash.digest[i] = static_cast<std::uint8_t>(seed * 7 + i);
    }
    return hash;
}

UserState small_state() {
    UserState state;
    one_token(state).secret = totp::SecretBytes(kRfcKey, 20);
    state.created = 1732400000;
    return state;
}

UserState full_state(std::size_t recovery_codes) {
    UserState state;
    one_token(state).params = {totp::Algorithm::sha512, 8, 60};
    one_token(state).secret = bytes_of(64, 3);
    one_token(state).last_step = 57746667;
    state.failures = 3;
    state.locked_until = 1732400300;
    state.created = 1732400000;
    state.email = "alice@example.org";
    state.email_verified = true;
    state.email_mails = totp::kMaxEmailMails;
    state.email_mails_since = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < recovery_codes; ++i) {
        state.recovery.push_back(recovery_hash(static_cast<std::uint8_t>(i)));
    }
    return state;
}

void assert_same_token(const totp::Authenticator& a, const totp::Authenticator& b) {
    assert_string_equal(a.name.c_str(), b.name.c_str());
    assert_int_equal(a.type, b.type);
    assert_int_equal(a.params.algorithm, b.params.algorithm);
    assert_int_equal(a.params.digits, b.params.digits);
    assert_int_equal(a.params.period, b.params.period);
    assert_int_equal(a.secret.size(), b.secret.size());
    assert_memory_equal(a.secret.data(), b.secret.data(), a.secret.size());
    assert_true(a.last_step == b.last_step);
    assert_true(a.counter == b.counter);
    assert_int_equal(a.offset, b.offset);
    assert_true(a.last_used == b.last_used);
}

void assert_same_state(const UserState& a, const UserState& b) {
    assert_int_equal(a.authenticators.size(), b.authenticators.size());
    for (std::size_t i = 0; i < a.authenticators.size(); ++i) {
        assert_same_token(a.authenticators[i], b.authenticators[i]);
    }
    assert_int_equal(a.failures, b.failures);
    assert_true(a.locked_until == b.locked_until);
    assert_true(a.created == b.created);
    assert_string_equal(a.email.c_str(), b.email.c_str());
    assert_int_equal(a.email_verified, b.email_verified);
    assert_int_equal(a.email_mails, b.email_mails);
    assert_true(a.email_mails_since == b.email_mails_since);
    assert_true(a.recovery == b.recovery);
}

std::string encode(const UserState& state, std::uint64_t sequence) {
    totp::Result<totp::SecretString> slot = totp::encode_slot(state, sequence);
    assert_true(slot.ok());
    return std::string(slot->view());
}

// The record text above the checksum line.
std::string body_of(const std::string& slot) {
    const std::size_t checksum = slot.find("\nchecksum=");
    assert_true(checksum != std::string::npos);
    return slot.substr(0, checksum + 1);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    assert_int_equal(EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr),
                     1);
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        constexpr char kHex[] = "0123456789abcdef";
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0x0f];
    }
    return hex;
}

// A slot with a correct checksum around any body, so tests reach the line parser.
std::string seal(const std::string& body) {
    std::string slot = body + "checksum=" + sha256_hex(body) + "\n";
    assert_true(slot.size() <= totp::kSlotSize);
    slot.append(totp::kSlotSize - slot.size(), '\n');
    return slot;
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
    const std::size_t at = text.find(from);
    assert_true(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

void assert_slot_corrupt(const std::string& slot) {
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(slot);
    assert_false(decoded.ok());
    assert_int_equal(decoded.error().code, Errc::corrupt);
    assert_false(decoded.error().message.empty());
    assert_true(decoded.error().message.find('\n') == std::string::npos);
    assert_true(decoded.error().message.find(kRfcKeyBase32) == std::string::npos);
}

// Replaces `from` in the small record's body and re-seals it: only the edit is wrong.
void assert_edit_refused(std::string_view from, std::string_view to) {
    assert_slot_corrupt(seal(replace(body_of(encode(small_state(), 17)), from, to)));
}

void assert_encode_refused(const UserState& state) {
    totp::Result<totp::SecretString> slot = totp::encode_slot(state, 1);
    assert_false(slot.ok());
    assert_int_equal(slot.error().code, Errc::invalid_argument);
}

std::string file_of(const std::string& slot0, const std::string& slot1) {
    return slot0 + slot1;
}

}  // namespace

static void slot_text_is_the_documented_format(void**) {
    UserState state = small_state();
    state.email = "alice@example.org";
    totp::RecoveryHash hash;
    for (std::size_t i = 0; i < hash.salt.size(); ++i) hash.salt[i] = static_cast<std::uint8_t>(i);
    hash.digest.fill(0xab);
    state.recovery.push_back(hash);

    totp::Authenticator token;
    token.name = "yubikey";
    token.type = totp::OtpType::hotp;
    token.secret = bytes_of(20, 'a');
    token.counter = 42;
    token.last_used = 1732400100;
    assert_true(totp::add_authenticator(state, std::move(token), 8).ok());
    one_token(state).offset = -2;

    const std::string expected =
        "pam_totp-state v2\n"
        "sequence=17\n"
        "failures=0\n"
        "locked_until=0\n"
        "created=1732400000\n"
        "email=alice@example.org\n"
        "email_verified=0\n"
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:-2:0\n"
        "authenticator=yubikey:hotp:SHA1:6:30:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U:42:0:1732400100\n"
        "recovery=000102030405060708090a0b0c0d0e0f:"
        "abababababababababababababababababababababababababababababababab\n"
        "checksum=e0601fab3eaa1762a258be39e4ebd7c839e5ad5a4d12908df6462ab06c19e8ca\n";
    const std::string slot = encode(state, 17);
    assert_int_equal(slot.size(), totp::kSlotSize);
    assert_string_equal(slot.substr(0, expected.size()).c_str(), expected.c_str());
    assert_true(slot.find_first_not_of('\n', expected.size()) == std::string::npos);
}

static void full_state_with_20_recovery_codes_round_trips(void**) {
    const UserState state = full_state(totp::kMaxRecoveryCodes);
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(encode(state, 42));
    assert_true(decoded.ok());
    assert_int_equal(decoded->sequence, 42);
    assert_same_state(decoded->state, state);
}

static void state_without_recovery_codes_round_trips(void**) {
    const UserState state = full_state(0);
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(encode(state, 1));
    assert_true(decoded.ok());
    assert_same_state(decoded->state, state);
}

static void small_state_with_no_last_step_round_trips(void**) {
    const UserState state = small_state();
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(encode(state, 0));
    assert_true(decoded.ok());
    assert_int_equal(decoded->sequence, 0);
    assert_false(one_token(decoded->state).last_step.has_value());
    assert_same_state(decoded->state, state);
}

static void largest_valid_state_fits_in_a_slot(void**) {
    UserState state = full_state(totp::kMaxRecoveryCodes);
    one_token(state).secret = bytes_of(totp::kMaxSecretBytes, 9);
    state.email = std::string(totp::kMaxEmailLength - 12, 'a') + "@example.org";
    one_token(state).last_step = std::numeric_limits<std::uint64_t>::max();
    state.failures = 1000000;
    state.locked_until = std::numeric_limits<std::int64_t>::max();
    state.created = std::numeric_limits<std::int64_t>::max();
    totp::Result<totp::DecodedSlot> decoded =
        totp::decode_slot(encode(state, std::numeric_limits<std::uint64_t>::max()));
    assert_true(decoded.ok());
    assert_true(decoded->sequence == std::numeric_limits<std::uint64_t>::max());
    assert_same_state(decoded->state, state);
}

static void clone_copies_every_field(void**) {
    const UserState state = full_state(3);
    assert_same_state(state.clone(), state);
}

static void oversized_or_invalid_states_are_refused_by_encode(void**) {
    UserState state = full_state(totp::kMaxRecoveryCodes);
    state.recovery.push_back(recovery_hash(99));
    assert_encode_refused(state);

    state = small_state();
    one_token(state).secret = bytes_of(totp::kMaxSecretBytes + 1, 0);
    assert_encode_refused(state);

    state = small_state();
    one_token(state).secret = bytes_of(totp::kMinSecretBytes - 1, 0);
    assert_encode_refused(state);

    state = small_state();
    state.email = std::string(totp::kMaxEmailLength - 11, 'a') + "@example.org";
    assert_encode_refused(state);

    state = small_state();
    state.email_verified = true;
    assert_encode_refused(state);

    state = small_state();
    state.email = "alice smith@example.org";
    assert_encode_refused(state);

    state = small_state();
    state.failures = 1000001;
    assert_encode_refused(state);

    state = small_state();
    state.created = -1;
    assert_encode_refused(state);

    state = small_state();
    state.locked_until = -1;
    assert_encode_refused(state);

    state = small_state();
    one_token(state).params.digits = 9;
    assert_encode_refused(state);
}

static void every_flipped_byte_is_detected(void**) {
    const std::string slot = encode(small_state(), 17);
    for (std::size_t i = 0; i < slot.size(); ++i) {
        std::string flipped = slot;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        assert_slot_corrupt(flipped);
    }
}

static void wrong_checksum_is_refused(void**) {
    const std::string slot = encode(small_state(), 17);
    assert_slot_corrupt(replace(slot, "checksum=", "checksum=0"));
    assert_slot_corrupt(body_of(slot) + std::string(totp::kSlotSize - body_of(slot).size(), '\n'));
    std::string upper = slot;
    for (std::size_t i = upper.find("checksum=") + 9; upper[i] != '\n'; ++i) {
        if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 32);
    }
    assert_slot_corrupt(upper);
}

static void data_after_the_checksum_is_refused(void**) {
    std::string slot = encode(small_state(), 17);
    slot[slot.size() - 1] = 'x';
    assert_slot_corrupt(slot);
    slot = encode(small_state(), 17);
    slot[slot.find("checksum=") + 80] = ' ';
    assert_slot_corrupt(slot);
}

static void wrong_slot_size_is_refused(void**) {
    const std::string slot = encode(small_state(), 17);
    assert_slot_corrupt(slot.substr(0, totp::kSlotSize - 1));
    assert_slot_corrupt(slot + "\n");
    assert_slot_corrupt(std::string(totp::kSlotSize, '\n'));
    assert_slot_corrupt(std::string(totp::kSlotSize, '\0'));
}

static void sealed_body_of_the_encoder_is_accepted(void**) {
    // The editing helper itself must not make records invalid, or the tests below prove nothing.
    assert_true(totp::decode_slot(seal(body_of(encode(small_state(), 17)))).ok());
}

static void wrong_magic_is_refused(void**) {
    assert_edit_refused("pam_totp-state v2", "pam_totp-state v1");
    assert_edit_refused("pam_totp-state v2", "pam_totp-state v3");
    assert_edit_refused("pam_totp-state v2", "pam_totp-state v2 ");
    assert_edit_refused("pam_totp-state v2\n", "");
}

static void unknown_key_is_refused(void**) {
    assert_edit_refused("failures=0\n", "failures=0\ncolour=blue\n");
    assert_edit_refused("failures=0\n", "failures=0\nno equals sign\n");
    assert_edit_refused("email_verified=0\n", "email_verified=0\ncomment=x\n");
    assert_edit_refused("email_verified=0\n", "email_verified=0\n\n");
}

static void duplicate_key_is_refused(void**) {
    assert_edit_refused(
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:"
        "0\nauthenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n");
    assert_edit_refused("sequence=17\n", "sequence=17\nsequence=17\n");
    assert_edit_refused("email_verified=0\n", "email_verified=0\nemail_verified=0\n");
}

static void missing_key_is_refused(void**) {
    for (std::string_view line :
         {"sequence=17\n", "failures=0\n", "locked_until=0\n", "created=1732400000\n", "email=\n",
          "email_verified=0\n",
          "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n"}) {
        assert_edit_refused(line, "");
    }
    for (std::string_view field : {":totp", ":SHA1", ":6", ":30", ":none", ":0:0"}) {
        assert_edit_refused(field, "");
    }
}

// The count of verification mails is written only once there is one, so records written
// before it existed still read; when present it must be well formed.
static void email_mail_count_is_optional_and_strict(void**) {
    assert_true(encode(small_state(), 17).find("email_mails=") == std::string::npos);
    UserState counted = small_state();
    counted.email_mails = 2;
    counted.email_mails_since = 1732400000;
    const std::string slot = encode(counted, 17);
    assert_true(slot.find("\nemail_mails=2:1732400000\n") != std::string::npos);
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(slot);
    assert_true(decoded.ok());
    assert_same_state(counted, decoded->state);

    for (std::string_view bad :
         {"email_mails=0:1732400000\n", "email_mails=2\n", "email_mails=1001:5\n",
          "email_mails=2:-1\n", "email_mails=:5\n", "email_mails=2:5\nemail_mails=2:5\n"}) {
        assert_edit_refused("email_verified=0\n", "email_verified=0\n" + std::string(bad));
    }
    // Before email_verified is out of order.
    assert_edit_refused("email=\n", "email_mails=2:5\nemail=\n");

    counted.email_mails = 0;  // a start time without a count
    assert_false(totp::validate(counted).ok());
}

static void reordered_keys_are_refused(void**) {
    assert_edit_refused(":6:30:", ":30:6:");
    assert_edit_refused(
        "email_verified=0\nauthenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:"
        "none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\nemail_"
        "verified=0\n");
    assert_edit_refused("failures=0\nlocked_until=0\n", "locked_until=0\nfailures=0\n");
    const std::string recovery = "recovery=" + totp::format_recovery_hash(recovery_hash(1)) + "\n";
    UserState state = small_state();
    state.recovery.push_back(recovery_hash(1));
    const std::string body = body_of(encode(state, 3));
    assert_true(totp::decode_slot(seal(body)).ok());
    std::string moved = replace(body, recovery, "");
    moved = replace(moved, "failures=0\n", "failures=0\n" + recovery);
    assert_slot_corrupt(seal(moved));
}

static void numbers_with_leading_zeros_are_refused(void**) {
    assert_edit_refused("sequence=17", "sequence=017");
    assert_edit_refused("failures=0", "failures=00");
    assert_edit_refused(":6:30:", ":06:30:");
    assert_edit_refused(":none:0:0", ":none:00:0");
    assert_edit_refused("created=1732400000", "created=01732400000");
}

static void signed_or_empty_numbers_are_refused(void**) {
    assert_edit_refused("locked_until=0", "locked_until=-1");
    assert_edit_refused("failures=0", "failures=-0");
    assert_edit_refused("created=1732400000", "created=+1732400000");
    assert_edit_refused("failures=0", "failures=");
    assert_edit_refused("failures=0", "failures= 0");
    assert_edit_refused(":6:30:", ":6:30s:");
    assert_edit_refused(":none:0:0", "::0:0");
    assert_edit_refused(":none:0:0", ":None:0:0");
    assert_edit_refused(":none:0:0", ":-5:0:0");
    assert_edit_refused(":none:0:0", ":none:-0:0");
    assert_edit_refused(":none:0:0", ":none:+1:0");
    assert_edit_refused(":none:0:0", ":none:0:-1");
}

static void numbers_out_of_range_are_refused(void**) {
    assert_edit_refused("sequence=17", "sequence=18446744073709551616");
    assert_edit_refused(":none:0:0", ":18446744073709551616:0:0");
    assert_edit_refused(":none:0:0", ":none:21:0");  // 21 steps of 30 s: more than 600 s
    assert_edit_refused("locked_until=0", "locked_until=9223372036854775808");
    assert_edit_refused("created=1732400000", "created=99999999999999999999999");
    assert_edit_refused("failures=0", "failures=1000001");
    assert_edit_refused(":6:30:", ":5:30:");
    assert_edit_refused(":6:30:", ":9:30:");
    assert_edit_refused(":6:30:", ":6:14:");
    assert_edit_refused(":6:30:", ":6:301:");
    assert_edit_refused("email_verified=0", "email_verified=2");
}

static void numbers_at_the_edge_of_range_are_accepted(void**) {
    std::string body = body_of(encode(small_state(), 17));
    body = replace(body, "sequence=17", "sequence=18446744073709551615");
    body = replace(body, ":none:0:0", ":18446744073709551615:-20:9223372036854775807");
    body = replace(body, "locked_until=0", "locked_until=9223372036854775807");
    body = replace(body, "failures=0", "failures=1000000");
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(seal(body));
    assert_true(decoded.ok());
    assert_true(decoded->sequence == std::numeric_limits<std::uint64_t>::max());
    assert_int_equal(decoded->state.failures, 1000000);
}

static void unknown_algorithm_spelling_is_refused(void**) {
    assert_edit_refused(":SHA1:", ":sha1:");
    assert_edit_refused(":SHA1:", ":MD5:");
    assert_edit_refused(":SHA1:", "::");
    assert_edit_refused(":totp:", ":TOTP:");
    assert_edit_refused(":totp:", ":motp:");
}

static void bad_email_is_refused(void**) {
    assert_edit_refused("email=\n", "email=no-at-sign\n");
    assert_edit_refused("email=\n", "email=a@b@c\n");
    assert_edit_refused("email=\n", "email=a b@c\n");
    assert_edit_refused("email=\n", "email=a\t@c\n");
    assert_edit_refused("email=\n", "email=a\x01@c\n");
    assert_edit_refused("email=\n", "email=j\xc3\xbcrgen@c\n");
    assert_edit_refused("email=\n", "email=@example.org\n");
    assert_edit_refused("email=\n", "email=alice@\n");
    assert_edit_refused("email=\n",
                        "email=" + std::string(totp::kMaxEmailLength - 11, 'a') + "@example.org\n");
}

static void verified_flag_without_email_is_refused(void**) {
    assert_edit_refused("email_verified=0", "email_verified=1");
}

static void secret_of_wrong_length_or_spelling_is_refused(void**) {
    const std::string line = ":" + std::string(kRfcKeyBase32);
    const std::string short_secret(
        totp::base32_encode(bytes_of(totp::kMinSecretBytes - 1, 1).span()).view());
    const std::string long_secret(
        totp::base32_encode(bytes_of(totp::kMaxSecretBytes + 1, 1).span()).view());
    // 11 bytes take 18 symbols, leaving 2 spare bits that must be zero.
    std::string spare_bits(totp::base32_encode(bytes_of(11, 1).span()).view());
    constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    spare_bits.back() = kAlphabet[kAlphabet.find(spare_bits.back()) | 1];
    assert_edit_refused(line, ":" + short_secret);
    assert_edit_refused(line, ":" + long_secret);
    assert_edit_refused(line, ":");
    assert_edit_refused(line, ":gezdgnbvgy3tqojqgezdgnbvgy3tqojq");
    assert_edit_refused(line, ":GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====");
    assert_edit_refused(line, ":GEZD-GNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_edit_refused(line, ":" + spare_bits);
}

static void bad_recovery_lines_are_refused(void**) {
    const std::string hash = totp::format_recovery_hash(recovery_hash(1));
    assert_edit_refused(
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\nrecovery="
        "\n");
    assert_edit_refused(
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:"
        "0\nrecovery=" +
            hash.substr(1) + "\n");
    std::string upper = hash;
    for (char& c : upper) {
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 32);
    }
    assert_edit_refused(
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:"
        "0\nrecovery=" +
            upper + "\n");
    std::string too_many;
    for (std::size_t i = 0; i <= totp::kMaxRecoveryCodes; ++i)
        too_many += "recovery=" + hash + "\n";
    assert_edit_refused(
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n" +
            too_many);
}

// The version 1 record of docs/state-format.md's history: one TOTP secret, 4096-byte slots.
std::string v1_file() {
    const std::string body =
        "pam_totp-state v1\n"
        "sequence=17\n"
        "algorithm=SHA1\n"
        "digits=6\n"
        "period=30\n"
        "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"
        "last_step=57746667\n"
        "failures=2\n"
        "locked_until=0\n"
        "created=1732400000\n"
        "email=alice@example.org\n"
        "email_verified=0\n";
    std::string slot = body + "checksum=" + sha256_hex(body) + "\n";
    slot.append(totp::kV1SlotSize - slot.size(), '\n');
    return slot + std::string(totp::kV1SlotSize, '\n');
}

totp::Authenticator hotp_token(std::string name, std::uint64_t counter) {
    totp::Authenticator token;
    token.name = std::move(name);
    token.type = totp::OtpType::hotp;
    token.secret = bytes_of(20, 5);
    token.counter = counter;
    return token;
}

static void version_1_file_reads_as_one_default_authenticator(void**) {
    totp::Result<totp::DecodedFile> file = totp::decode_file(v1_file());
    assert_true(file.ok());
    assert_int_equal(file->version, 1);
    assert_int_equal(file->sequence, 17);
    assert_int_equal(file->next_slot, 1);
    assert_int_equal(file->state.authenticators.size(), 1);
    const totp::Authenticator& token = file->state.authenticators.front();
    assert_string_equal(token.name.c_str(), "default");
    assert_int_equal(token.type, totp::OtpType::totp);
    assert_true(token.last_step == 57746667u);
    assert_int_equal(token.secret.size(), 20);
    assert_memory_equal(token.secret.data(), kRfcKey, 20);
    assert_int_equal(file->state.failures, 2);
    assert_string_equal(file->state.email.c_str(), "alice@example.org");

    // A version 2 record in a version 1 file (or the reverse) is never valid.
    std::string mixed = v1_file();
    const std::string v2 = encode(small_state(), 1);
    assert_false(totp::decode_file(v2.substr(0, totp::kV1SlotSize) + mixed.substr(4096)).ok());
    std::string edited = v1_file();
    edited[edited.find("last_step=") + 10] = 'x';
    assert_false(totp::decode_file(edited).ok());
}

static void several_authenticators_round_trip_in_order(void**) {
    UserState state = full_state(2);
    assert_true(totp::add_authenticator(state, hotp_token("yubikey", 9), 8).ok());
    totp::Authenticator phone;
    phone.name = "spare.phone_2";
    phone.params = {totp::Algorithm::sha256, 7, 45};
    phone.secret = bytes_of(32, 1);
    phone.last_step = 12345;
    phone.offset = 3;
    phone.last_used = 1732400000;
    assert_true(totp::add_authenticator(state, std::move(phone), 8).ok());
    totp::Result<totp::DecodedSlot> decoded = totp::decode_slot(encode(state, 5));
    assert_true(decoded.ok());
    assert_same_state(decoded->state, state);
    assert_same_state(state.clone(), state);
}

static void largest_record_of_16_authenticators_fits_in_a_slot(void**) {
    UserState state = full_state(totp::kMaxRecoveryCodes);
    state.email = std::string(totp::kMaxEmailLength - 12, 'a') + "@example.org";
    one_token(state).secret = bytes_of(totp::kMaxSecretBytes, 9);
    one_token(state).name = std::string(totp::kMaxAuthenticatorName, 'd');
    one_token(state).last_step = std::numeric_limits<std::uint64_t>::max();
    one_token(state).offset = -40;
    one_token(state).params = {totp::Algorithm::sha512, 8, 15};
    one_token(state).last_used = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 1; i < totp::kMaxAuthenticators; ++i) {
        totp::Authenticator token = one_token(state).clone();
        token.name = std::string(totp::kMaxAuthenticatorName - 2, 'n') + std::to_string(10 + i);
        token.secret.data()[0] = static_cast<std::uint8_t>(100 + i);
        assert_true(
            totp::add_authenticator(state, std::move(token), totp::kMaxAuthenticators).ok());
    }
    totp::Result<totp::DecodedSlot> decoded =
        totp::decode_slot(encode(state, std::numeric_limits<std::uint64_t>::max()));
    assert_true(decoded.ok());
    assert_same_state(decoded->state, state);
}

static void add_authenticator_refuses_bad_names_duplicates_and_more_than_the_maximum(void**) {
    UserState state = small_state();
    for (const char* bad : {"", "-x", "a b", "a:b", "a/b", "\xc3\xa9t\xc3\xa9",
                            "123456789012345678901234567890123"}) {
        const totp::Status added = totp::add_authenticator(state, hotp_token(bad, 0), 8);
        assert_false(added.ok());
        assert_int_equal(added.error().code, Errc::invalid_argument);
    }
    assert_false(totp::add_authenticator(state, hotp_token("default", 0), 8).ok());
    assert_true(totp::add_authenticator(state, hotp_token("two", 0), 2).ok());
    assert_false(totp::add_authenticator(state, hotp_token("three", 0), 2).ok());
    assert_int_equal(state.authenticators.size(), 2);

    totp::Authenticator drifting = hotp_token("hotp-offset", 0);
    drifting.offset = 1;  // HOTP has no clock
    assert_false(totp::add_authenticator(state, std::move(drifting), 8).ok());
    totp::Authenticator far;
    far.name = "far";
    far.secret = bytes_of(20, 1);
    far.offset = 21;  // 630 s at 30 s steps
    assert_false(totp::add_authenticator(state, std::move(far), 8).ok());
}

// Replay protection is per authenticator: two with one secret would accept one code twice
// (once each), so the record never holds that.
static void a_second_authenticator_with_the_same_secret_is_refused(void**) {
    UserState state = small_state();
    totp::Authenticator copy = hotp_token("copy", 0);
    copy.secret = one_token(state).secret.clone();
    const totp::Status added = totp::add_authenticator(state, std::move(copy), 8);
    assert_false(added.ok());
    assert_int_equal(added.error().code, Errc::invalid_argument);
    assert_int_equal(state.authenticators.size(), 1);

    totp::Authenticator other = hotp_token("other", 0);
    assert_true(totp::add_authenticator(state, std::move(other), 8).ok());
    const std::string body = body_of(encode(state, 4));
    const std::string second = body.substr(body.find("authenticator=other:hotp:SHA1:6:30:"));
    const std::string secret = second.substr(35, second.find(":0:0:0") - 35);
    assert_slot_corrupt(seal(replace(body, secret, std::string(kRfcKeyBase32))));
}

// HMAC pads a key shorter than the hash's block with zero bytes and hashes a longer one,
// so these secrets differ as bytes but give every code the same: one is a copy.
static void a_second_authenticator_with_the_same_hmac_key_is_refused(void**) {
    UserState state = small_state();
    const totp::SecretBytes first = one_token(state).secret.clone();
    totp::SecretBytes padded = first.clone();
    padded.push_back(0);
    const auto code_of = [](const totp::SecretBytes& key) {
        return std::string(totp::hotp(key, 7, totp::Algorithm::sha1, 6)->view());
    };
    assert_string_equal(code_of(padded).c_str(), code_of(first).c_str());
    for (std::size_t zeros = 1; zeros <= 3; ++zeros) {
        totp::Authenticator copy;
        copy.name = "padded";
        copy.secret = first.clone();
        for (std::size_t i = 0; i < zeros; ++i) copy.secret.push_back(0);
        assert_false(totp::add_authenticator(state, std::move(copy), 8).ok());
    }
    assert_int_equal(state.authenticators.size(), 1);

    // A SHA-1 key longer than the 64-byte block is used as its digest.
    totp::Authenticator long_key;
    long_key.name = "long";
    long_key.secret = bytes_of(100, 1);
    totp::Authenticator digest_key;
    digest_key.name = "digest";
    digest_key.secret = totp::SecretBytes(20);
    assert_int_equal(EVP_Digest(long_key.secret.data(), long_key.secret.size(),
                                digest_key.secret.data(), nullptr, EVP_sha1(), nullptr),
                     1);
    assert_string_equal(code_of(long_key.secret).c_str(), code_of(digest_key.secret).c_str());
    assert_true(totp::add_authenticator(state, std::move(long_key), 8).ok());
    assert_false(totp::add_authenticator(state, std::move(digest_key), 8).ok());

    // A trailing byte that is not zero makes another key.
    totp::Authenticator other;
    other.name = "other";
    other.secret = first.clone();
    other.secret.push_back(1);
    assert_true(totp::add_authenticator(state, std::move(other), 8).ok());

    // A record read from the store is held to the same rule.
    UserState copied = small_state();
    totp::Authenticator twin = one_token(copied).clone();
    twin.name = "twin";
    twin.secret.push_back(0);
    copied.authenticators.push_back(std::move(twin));
    assert_false(totp::validate(copied).ok());
}

static void remove_authenticator_keeps_the_others_and_never_the_last(void**) {
    UserState state = small_state();
    assert_true(totp::add_authenticator(state, hotp_token("yubikey", 3), 8).ok());
    assert_int_equal(totp::remove_authenticator(state, "nosuch").error().code, Errc::not_found);
    assert_true(totp::remove_authenticator(state, "default").ok());
    assert_int_equal(state.authenticators.size(), 1);
    assert_string_equal(state.authenticators.front().name.c_str(), "yubikey");
    assert_int_equal(totp::remove_authenticator(state, "yubikey").error().code,
                     Errc::invalid_argument);
    assert_true(totp::find_authenticator(state, "yubikey") != nullptr);
}

// Enrolling again or importing replaces the authenticators the new record names and keeps
// the others, within max_authenticators unless that adds none.
static void replacing_keeps_the_other_authenticators_within_the_maximum(void**) {
    UserState previous = small_state();
    assert_true(totp::add_authenticator(previous, hotp_token("yubikey", 3), 8).ok());
    UserState again;
    again.authenticators.push_back(hotp_token("default", 0));
    assert_true(totp::replace_authenticators(again, previous, 2).ok());
    assert_int_equal(again.authenticators.size(), 2);
    assert_int_equal(again.authenticators[0].type, totp::OtpType::hotp);  // the new default
    assert_string_equal(again.authenticators[1].name.c_str(), "yubikey");

    UserState beside;
    beside.authenticators.push_back(hotp_token("spare", 0));
    const totp::Status refused = totp::replace_authenticators(beside, previous, 2);
    assert_false(refused.ok());
    assert_int_equal(refused.error().code, Errc::invalid_argument);
    assert_non_null(std::strstr(refused.error().message.c_str(), "max_authenticators (2)"));
    assert_int_equal(beside.authenticators.size(), 1);

    // Replacing adds none: still possible for a user over a maximum lowered since.
    UserState lowered;
    lowered.authenticators.push_back(hotp_token("default", 0));
    assert_true(totp::replace_authenticators(lowered, previous, 1).ok());
    assert_int_equal(lowered.authenticators.size(), 2);
}

static void authenticator_lines_are_strict(void**) {
    UserState state = small_state();
    assert_true(totp::add_authenticator(state, hotp_token("yubikey", 3), 8).ok());
    const std::string body = body_of(encode(state, 4));
    const std::string second = body.substr(body.find("authenticator=yubikey"));
    const std::string line = second.substr(0, second.find('\n') + 1);
    const auto refused = [&](std::string_view from, std::string_view to) {
        assert_slot_corrupt(seal(replace(body, line, replace(line, from, to))));
    };
    assert_true(totp::decode_slot(seal(body)).ok());
    refused("yubikey", "default");     // two with one name
    refused("yubikey:", "yu bikey:");  // a name with a space
    refused(":3:0:0", ":3:1:0");       // an HOTP token with an offset
    refused(":3:0:0", ":none:0:0");    // an HOTP counter must be a number
    refused(":3:0:0", ":9223372036854775808:0:0");
    refused(":3:0:0", ":3:0");      // a field missing
    refused(":3:0:0", ":3:0:0:0");  // a field too many
    refused(":hotp:", ":HOTP:");
    std::string none = replace(
        body, "authenticator=default:totp:SHA1:6:30:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:none:0:0\n",
        "");
    assert_true(totp::decode_slot(seal(none)).ok());     // one authenticator left is fine
    assert_slot_corrupt(seal(replace(none, line, "")));  // none at all is not
}

static void decode_file_picks_the_higher_sequence(void**) {
    UserState older = small_state();
    UserState newer = small_state();
    newer.failures = 2;

    totp::Result<totp::DecodedFile> file =
        totp::decode_file(file_of(encode(older, 5), encode(newer, 6)));
    assert_true(file.ok());
    assert_int_equal(file->sequence, 6);
    assert_int_equal(file->next_slot, 0);
    assert_same_state(file->state, newer);

    file = totp::decode_file(file_of(encode(newer, 8), encode(older, 7)));
    assert_true(file.ok());
    assert_int_equal(file->sequence, 8);
    assert_int_equal(file->next_slot, 1);
    assert_same_state(file->state, newer);
}

static void fresh_file_with_an_empty_second_slot_is_valid(void**) {
    totp::Result<totp::DecodedFile> file =
        totp::decode_file(file_of(encode(small_state(), 1), std::string(totp::kSlotSize, '\n')));
    assert_true(file.ok());
    assert_int_equal(file->sequence, 1);
    assert_int_equal(file->next_slot, 1);
}

static void torn_newer_slot_falls_back_to_the_older(void**) {
    UserState older = small_state();
    UserState newer = small_state();
    newer.failures = 2;
    std::string torn = encode(newer, 6);
    torn.replace(100, 1000, std::string(1000, '\0'));

    totp::Result<totp::DecodedFile> file = totp::decode_file(file_of(encode(older, 5), torn));
    assert_true(file.ok());
    assert_int_equal(file->sequence, 5);
    assert_int_equal(file->next_slot, 1);
    assert_same_state(file->state, older);

    file = totp::decode_file(file_of(torn, encode(older, 5)));
    assert_true(file.ok());
    assert_int_equal(file->sequence, 5);
    assert_int_equal(file->next_slot, 0);
}

// A newer slot with an intact checksum but a record that does not parse counts as torn.
static void newer_slot_that_does_not_parse_falls_back_to_the_older(void**) {
    UserState older = small_state();
    std::string body = body_of(encode(small_state(), 9));
    const std::size_t algorithm = body.find(":SHA1:");
    assert_true(algorithm != std::string::npos);
    body.replace(algorithm, 6, ":sha1:");
    const std::string unparsable = seal(body);
    assert_false(totp::decode_slot(unparsable).ok());

    for (const bool first : {true, false}) {
        totp::Result<totp::DecodedFile> file =
            first ? totp::decode_file(file_of(unparsable, encode(older, 8)))
                  : totp::decode_file(file_of(encode(older, 8), unparsable));
        assert_true(file.ok());
        assert_int_equal(file->sequence, 8);
        assert_int_equal(file->next_slot, first ? 0 : 1);
        assert_same_state(file->state, older);
    }
    totp::Result<totp::DecodedFile> none = totp::decode_file(file_of(unparsable, unparsable));
    assert_false(none.ok());
    assert_true(none.error().message.find("slot 0: line") != std::string::npos);
}

static void both_slots_torn_is_corrupt(void**) {
    std::string first = encode(small_state(), 5);
    std::string second = encode(small_state(), 6);
    first.replace(60, 10, "xxxxxxxxxx");
    second.replace(40, 10, std::string(10, '\0'));
    totp::Result<totp::DecodedFile> file = totp::decode_file(file_of(first, second));
    assert_false(file.ok());
    assert_int_equal(file.error().code, Errc::corrupt);
    // The newer-looking slot (sequence 6, slot 1) is the failure reported first.
    assert_true(file.error().message.find("slot 1: checksum mismatch") != std::string::npos);
    assert_true(file.error().message.find('\n') == std::string::npos);
}

static void file_of_wrong_size_is_corrupt(void**) {
    const std::string good = file_of(encode(small_state(), 1), encode(small_state(), 2));
    assert_true(totp::decode_file(good).ok());
    for (const std::string& file : {good.substr(0, good.size() - 1), good + "\n", std::string(),
                                    good.substr(0, totp::kSlotSize)}) {
        totp::Result<totp::DecodedFile> decoded = totp::decode_file(file);
        assert_false(decoded.ok());
        assert_int_equal(decoded.error().code, Errc::corrupt);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slot_text_is_the_documented_format),
        cmocka_unit_test(version_1_file_reads_as_one_default_authenticator),
        cmocka_unit_test(several_authenticators_round_trip_in_order),
        cmocka_unit_test(largest_record_of_16_authenticators_fits_in_a_slot),
        cmocka_unit_test(add_authenticator_refuses_bad_names_duplicates_and_more_than_the_maximum),
        cmocka_unit_test(replacing_keeps_the_other_authenticators_within_the_maximum),
        cmocka_unit_test(a_second_authenticator_with_the_same_secret_is_refused),
        cmocka_unit_test(a_second_authenticator_with_the_same_hmac_key_is_refused),
        cmocka_unit_test(remove_authenticator_keeps_the_others_and_never_the_last),
        cmocka_unit_test(authenticator_lines_are_strict),
        cmocka_unit_test(full_state_with_20_recovery_codes_round_trips),
        cmocka_unit_test(state_without_recovery_codes_round_trips),
        cmocka_unit_test(small_state_with_no_last_step_round_trips),
        cmocka_unit_test(largest_valid_state_fits_in_a_slot),
        cmocka_unit_test(clone_copies_every_field),
        cmocka_unit_test(oversized_or_invalid_states_are_refused_by_encode),
        cmocka_unit_test(every_flipped_byte_is_detected),
        cmocka_unit_test(wrong_checksum_is_refused),
        cmocka_unit_test(data_after_the_checksum_is_refused),
        cmocka_unit_test(wrong_slot_size_is_refused),
        cmocka_unit_test(sealed_body_of_the_encoder_is_accepted),
        cmocka_unit_test(wrong_magic_is_refused),
        cmocka_unit_test(unknown_key_is_refused),
        cmocka_unit_test(duplicate_key_is_refused),
        cmocka_unit_test(missing_key_is_refused),
        cmocka_unit_test(reordered_keys_are_refused),
        cmocka_unit_test(numbers_with_leading_zeros_are_refused),
        cmocka_unit_test(signed_or_empty_numbers_are_refused),
        cmocka_unit_test(numbers_out_of_range_are_refused),
        cmocka_unit_test(numbers_at_the_edge_of_range_are_accepted),
        cmocka_unit_test(unknown_algorithm_spelling_is_refused),
        cmocka_unit_test(bad_email_is_refused),
        cmocka_unit_test(verified_flag_without_email_is_refused),
        cmocka_unit_test(secret_of_wrong_length_or_spelling_is_refused),
        cmocka_unit_test(bad_recovery_lines_are_refused),
        cmocka_unit_test(decode_file_picks_the_higher_sequence),
        cmocka_unit_test(fresh_file_with_an_empty_second_slot_is_valid),
        cmocka_unit_test(torn_newer_slot_falls_back_to_the_older),
        cmocka_unit_test(newer_slot_that_does_not_parse_falls_back_to_the_older),
        cmocka_unit_test(both_slots_torn_is_corrupt),
        cmocka_unit_test(file_of_wrong_size_is_corrupt),
        cmocka_unit_test(email_mail_count_is_optional_and_strict),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
