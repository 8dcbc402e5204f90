// SPDX-License-Identifier: Apache-2.0
// The strict parsers of the migration formats: ~/.google_authenticator, pam_oath users
// files and PSKC (RFC 6030, with the RFC's own examples), and what of them is stored.
#include <libxml/xmlmemory.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "import_formats.hpp"
#include "import_plan.hpp"
#include "import_pskc.hpp"
#include "totp/base32.hpp"

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

using totp::OtpType;
using totp_enroll::parse_google_authenticator;
using totp_enroll::parse_oath_usersfile;

constexpr const char* kSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

std::string base32(const totp::SecretBytes& bytes) {
    return std::string(totp::base32_encode(bytes.span()).view());
}

void totp_file_with_every_option_parses(void**) {
    const std::string text = std::string(kSecret) +
                             "\n\" RATE_LIMIT 3 30 1700000000\n\" WINDOW_SIZE 17\n"
                             "\" DISALLOW_REUSE 56666666 56666667\n\" TOTP_AUTH\n"
                             "\" STEP_SIZE 60\n12345678\n87654321\n";
    auto file = parse_google_authenticator(text);
    assert_true(file.ok());
    assert_string_equal(base32(file->secret).c_str(), kSecret);
    assert_int_equal(file->step_size, 60);
    assert_int_equal(*file->window_size, 17);
    assert_true(file->rate_limit);
    assert_true(file->disallow_reuse);
    assert_int_equal(*file->last_used_step, 56666667);
    assert_int_equal(file->scratch_codes.size(), 2);
    assert_string_equal(file->scratch_codes[1].c_str(), "87654321");
}

void minimal_file_defaults_to_30_seconds(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n");
    assert_true(file.ok());
    assert_int_equal(file->step_size, 30);
    assert_false(file->window_size.has_value());
    assert_true(file->scratch_codes.empty());
}

void crlf_line_endings_are_accepted(void**) {
    auto file =
        parse_google_authenticator(std::string(kSecret) + "\r\n\" TOTP_AUTH\r\n11112222\r\n");
    assert_true(file.ok());
    assert_int_equal(file->scratch_codes.size(), 1);
}

void hotp_file_gives_a_hotp_token_at_its_next_counter(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n\" HOTP_COUNTER 7\n");
    assert_true(file.ok());
    const auto token = totp_enroll::google_authenticator_token(*file, "alice");
    assert_int_equal(static_cast<int>(token.type), static_cast<int>(OtpType::hotp));
    assert_int_equal(token.counter, 7);
    assert_string_equal(base32(token.secret).c_str(), kSecret);
    assert_string_equal(token.user.c_str(), "alice");
    assert_false(parse_google_authenticator(std::string(kSecret) + "\n\" HOTP_COUNTER x\n").ok());
}

void step_size_outside_15_to_300_is_unsupported(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n\" STEP_SIZE 10\n");
    assert_false(file.ok());
    assert_int_equal(static_cast<int>(file.error().code),
                     static_cast<int>(totp::Errc::unsupported));
}

void malformed_files_are_refused_without_echoing_secrets(void**) {
    const char* bad[] = {
        "",
        "\n",
        "NOT!BASE32\n",
        "JBSWY3DP\n",                                   // 5 bytes: too short
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n1234567\n",  // 7-digit scratch code
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" FROBNICATE\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" STEP_SIZE x\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" WINDOW_SIZE\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" TOTP_AUTH yes\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" DISALLOW_REUSE 12a\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsecret words\n",
    };
    for (const char* text : bad) {
        auto file = parse_google_authenticator(text);
        if (file.ok()) fail_msg("accepted: %s", text);
        assert_null(std::strstr(file.error().message.c_str(), "JBSWY3DP"));
        assert_null(std::strstr(file.error().message.c_str(), "1234567"));
    }
}

void more_than_twenty_scratch_codes_are_refused(void**) {
    std::string text = std::string(kSecret) + "\n";
    for (int i = 0; i < 21; ++i) text += std::to_string(10000000 + i) + "\n";
    assert_false(parse_google_authenticator(text).ok());
}

void oversized_file_is_refused(void**) {
    std::string text = std::string(kSecret) + "\n" + std::string(20000, '\n');
    assert_false(parse_google_authenticator(text).ok());
}

void oath_time_based_lines_parse(void**) {
    auto entries = parse_oath_usersfile(
        "# comment\n\n"
        "HOTP/T30 alice - 3132333435363738393031323334353637383930\n"
        "HOTP/T60/8\tbob\t1234\t00112233445566778899AABBCCDDEEFF00112233 12 123456 "
        "2024-01-01T00:00:00L\n"
        "HOTP/T30/7 carol + 00112233445566778899\n");
    assert_int_equal(entries.size(), 3);
    assert_true(entries[0].skipped.empty());
    assert_string_equal(entries[0].user.c_str(), "alice");
    assert_string_equal(entries[0].origin.c_str(), "line 3");
    assert_int_equal(entries[0].params.period, 30);
    assert_int_equal(entries[0].params.digits, 6);
    assert_int_equal(entries[0].secret.size(), 20);
    assert_int_equal(entries[0].secret.data()[0], 0x31);
    assert_false(entries[0].has_pin);
    assert_true(entries[1].skipped.empty());
    assert_int_equal(entries[1].params.period, 60);
    assert_int_equal(entries[1].params.digits, 8);
    assert_int_equal(entries[1].secret.data()[10], 0xaa);
    assert_true(entries[1].has_pin);
    assert_true(entries[2].skipped.empty());
    assert_int_equal(entries[2].params.digits, 7);
    assert_int_equal(entries[2].secret.size(), 10);
}

void oath_lines_that_cannot_be_imported_say_why(void**) {
    struct Case {
        const char* line;
        const char* reason;
    };
    const Case cases[] = {
        {"HOTP/E/9 alice - 00112233445566778899", "digits"},
        {"HOTP alice - 00112233445566778899 5 12ab", "last-OTP"},
        {"TOTP alice - 00112233445566778899", "unknown token type"},
        {"HOTP/T10 alice - 00112233445566778899", "outside the supported"},
        {"HOTP/T30/9 alice - 00112233445566778899", "digits"},
        {"HOTP/T30 alice - 0011223344556677889", "hex"},
        {"HOTP/T30 alice - 00112233445566778g", "hex"},
        {"HOTP/T30 alice - 0011", "bytes"},
        {"HOTP/T30 alice -", "malformed"},
        {"HOTP/T30 alice - 00112233445566778899 x", "counter"},
        {"HOTP/T30 alice - 00112233445566778899 1 2 3 4", "too many"},
    };
    for (const Case& c : cases) {
        auto entries = parse_oath_usersfile(c.line);
        assert_int_equal(entries.size(), 1);
        if (std::strstr(entries[0].skipped.c_str(), c.reason) == nullptr) {
            fail_msg("'%s': reason '%s', expected '%s'", c.line, entries[0].skipped.c_str(),
                     c.reason);
        }
        assert_string_equal(entries[0].user.c_str(), "alice");
        assert_null(std::strstr(entries[0].skipped.c_str(), "0011"));
    }
}

// The lines exactly as pam_oath rewrites them after a login (tabs; the counter of the code
// it accepted, that code, the time): HOTP continues after that counter.
void oath_hotp_lines_continue_after_the_counter_pam_oath_wrote(void**) {
    auto entries = parse_oath_usersfile(
        "HOTP\talice\t-\t3132333435363738393031323334353637383930\t5\t254676\t"
        "2026-12-05T06:12:44L\n"
        "HOTP/T30\talice\t-\t00112233445566778899aabbccddeeff00112233\t0\t520533\t"
        "2026-12-05T06:13:05L\n"
        "HOTP bob - 3132333435363738393031323334353637383930 5\n"
        "HOTP/E/8 carol - 3132333435363738393031323334353637383930\n");
    assert_int_equal(entries.size(), 4);
    for (const auto& entry : entries) assert_true(entry.skipped.empty());
    assert_int_equal(static_cast<int>(entries[0].type), static_cast<int>(OtpType::hotp));
    assert_int_equal(entries[0].counter, 6);
    assert_int_equal(static_cast<int>(entries[1].type), static_cast<int>(OtpType::totp));
    assert_int_equal(entries[1].params.period, 30);
    assert_int_equal(entries[2].counter, 5);  // never used: the counter is the next one
    assert_int_equal(entries[3].counter, 0);
    assert_int_equal(entries[3].params.digits, 8);
}

// A TOTP line's TIME (local time, as liboath writes it) keeps that login's step used.
void oath_totp_line_keeps_the_step_of_the_last_pam_oath_login_used(void**) {
    setenv("TZ", "UTC", 1);
    tzset();
    auto entries = parse_oath_usersfile(
        "HOTP/T30\talice\t-\t00112233445566778899aabbccddeeff00112233\t0\t520533\t"
        "2023-11-14T22:13:20L\n"
        "HOTP/T30 bob - 00112233445566778899aabbccddeeff00112233 0 520533 2023-11-14T22:13L\n");
    assert_true(entries[0].skipped.empty());
    assert_int_equal(*entries[0].last_used_step, 1700000000 / 30);
    assert_non_null(std::strstr(entries[1].skipped.c_str(), "malformed time"));
}

constexpr std::int64_t kNow = 1700000000;

// A token of `user` whose secret is 20 bytes of `fill` (equal fills: equal secrets).
totp_enroll::ImportedToken token(const char* user, OtpType type, const char* label,
                                 std::uint8_t fill) {
    totp_enroll::ImportedToken token;
    token.user = user;
    token.type = type;
    token.label = label;
    token.origin = label;
    token.secret = totp::SecretBytes(20);
    std::memset(token.secret.data(), fill, token.secret.size());
    return token;
}

void every_token_of_a_user_becomes_an_authenticator_of_one_record_and_the_rest_is_explained(
    void**) {
    std::vector<totp_enroll::ImportedToken> tokens;
    tokens.push_back(token("alice", OtpType::hotp, "line-1", 1));
    tokens.back().counter = 6;
    tokens.push_back(token("bob", OtpType::totp, "line-2", 2));
    tokens.back().skipped = "malformed";
    tokens.push_back(token("alice", OtpType::totp, "line-3", 3));
    tokens.back().drift_steps = -2;
    tokens.push_back(token("bob", OtpType::totp, "line-4", 4));
    tokens.back().drift_steps = 21;  // 630 s at 30 s a step
    tokens.push_back(token("alice", OtpType::totp, "line-5", 1));
    tokens.push_back(token("bob", OtpType::totp, "line-6", 6));
    const auto users = totp_enroll::decide_imports(tokens, 8, kNow);
    assert_int_equal(users.size(), 2);

    const totp_enroll::UserImport& alice = users[0];
    assert_string_equal(alice.user.c_str(), "alice");
    assert_int_equal(alice.decisions.size(), 3);
    assert_ptr_equal(alice.decisions[0].token, &tokens[0]);
    assert_string_equal(alice.decisions[0].name.c_str(), "default");
    assert_string_equal(alice.decisions[1].name.c_str(), "line-3");
    assert_true(alice.decisions[2].name.empty());
    assert_non_null(
        std::strstr(alice.decisions[2].not_imported.c_str(), "'default' has this secret already"));
    assert_int_equal(alice.state.authenticators.size(), 2);
    assert_int_equal(alice.state.created, kNow);
    const totp::Authenticator& hotp = alice.state.authenticators[0];
    assert_int_equal(static_cast<int>(hotp.type), static_cast<int>(totp::OtpType::hotp));
    assert_int_equal(hotp.counter, 6);
    assert_int_equal(alice.state.authenticators[1].offset, -2);

    const totp_enroll::UserImport& bob = users[1];
    assert_int_equal(bob.decisions.size(), 3);
    assert_string_equal(bob.decisions[0].not_imported.c_str(), "malformed");
    assert_non_null(std::strstr(bob.decisions[1].not_imported.c_str(), "21 steps of 30 s off"));
    assert_string_equal(bob.decisions[2].name.c_str(), "default");
    assert_ptr_equal(bob.decisions[2].token, &tokens[5]);
    assert_int_equal(bob.state.authenticators.size(), 1);
}

void tokens_beyond_max_authenticators_are_refused_one_by_one(void**) {
    std::vector<totp_enroll::ImportedToken> tokens;
    for (std::uint8_t i = 1; i <= 4; ++i) {
        tokens.push_back(token("alice", OtpType::totp, "phone", i));
    }
    const auto users = totp_enroll::decide_imports(tokens, 2, kNow);
    const auto& decisions = users.front().decisions;
    assert_string_equal(decisions[0].name.c_str(), "default");
    assert_string_equal(decisions[1].name.c_str(), "phone");
    for (std::size_t i = 2; i < 4; ++i) {
        assert_true(decisions[i].name.empty());
        assert_non_null(std::strstr(decisions[i].not_imported.c_str(), "max_authenticators"));
    }
    assert_int_equal(users.front().state.authenticators.size(), 2);
}

void a_used_step_ahead_of_the_token_clock_is_not_kept(void**) {
    std::vector<totp_enroll::ImportedToken> tokens;
    const std::uint64_t now_step = kNow / 30;
    tokens.push_back(token("alice", OtpType::totp, "a", 1));
    tokens.back().last_used_step = now_step;
    tokens.push_back(token("bob", OtpType::totp, "b", 2));
    tokens.back().last_used_step = now_step + 5;
    tokens.push_back(token("carol", OtpType::totp, "c", 3));
    tokens.back().last_used_step = now_step + 5;
    tokens.back().drift_steps = 4;  // the token's clock is 4 steps ahead: step + 5 is near
    const auto users = totp_enroll::decide_imports(tokens, 8, kNow);
    assert_int_equal(*users[0].state.authenticators[0].last_step, now_step);
    assert_false(users[1].state.authenticators[0].last_step.has_value());
    assert_int_equal(*users[2].state.authenticators[0].last_step, now_step + 5);
}

void labels_become_valid_unique_authenticator_names(void**) {
    totp::UserState state;
    using totp_enroll::authenticator_name;
    assert_string_equal(authenticator_name("SN 12/34:é", state).c_str(), "SN-12-34---");
    assert_string_equal(authenticator_name("--x", state).c_str(), "x");
    assert_string_equal(authenticator_name("", state).c_str(), "token");
    const std::string long_label(40, 'a');
    assert_string_equal(authenticator_name(long_label, state).c_str(),
                        std::string(totp::kMaxAuthenticatorName, 'a').c_str());
    for (const char* name : {"line-3", "line-3-2"}) {
        totp::Authenticator taken;
        taken.name = name;
        state.authenticators.push_back(std::move(taken));
    }
    assert_string_equal(authenticator_name("line-3", state).c_str(), "line-3-3");
    totp::Authenticator full;
    full.name = std::string(totp::kMaxAuthenticatorName, 'a');
    state.authenticators.push_back(std::move(full));
    assert_string_equal(authenticator_name(long_label, state).c_str(),
                        (std::string(totp::kMaxAuthenticatorName - 2, 'a') + "-2").c_str());
}

std::string pskc_file(const char* name) {
    std::ifstream in(std::string(PSKC_DIR) + "/" + name);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().empty()) fail_msg("cannot read %s", name);
    return text.str();
}

// RFC 6030's examples all carry the RFC 4226 test key "12345678901234567890".
void assert_rfc_hotp_token(const totp_enroll::ImportedToken& token) {
    assert_true(token.skipped.empty());
    assert_string_equal(token.label.c_str(), "987654321");
    assert_int_equal(static_cast<int>(token.type), static_cast<int>(OtpType::hotp));
    assert_int_equal(token.params.digits, 8);
    assert_int_equal(token.counter, 0);
    assert_int_equal(token.secret.size(), 20);
    assert_memory_equal(token.secret.data(), "12345678901234567890", 20);
}

void rfc6030_plain_example_parses(void**) {
    auto tokens = totp_enroll::parse_pskc(pskc_file("rfc6030-plain.xml"), {});
    assert_true(tokens.ok());
    assert_int_equal(tokens->size(), 1);
    assert_rfc_hotp_token(tokens->front());
}

totp_enroll::PskcKey preshared_key() {
    const std::uint8_t key[16] = {0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
                                  0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12};
    totp_enroll::PskcKey pskc;
    pskc.preshared = totp::SecretBytes(key, sizeof key);
    return pskc;
}

void rfc6030_preshared_key_example_decrypts_and_its_mac_is_checked(void**) {
    auto tokens = totp_enroll::parse_pskc(pskc_file("rfc6030-preshared-key.xml"), preshared_key());
    if (!tokens) fail_msg("%s", tokens.error().message.c_str());
    assert_rfc_hotp_token(tokens->front());
    totp_enroll::PskcKey wrong = preshared_key();
    wrong.preshared->data()[0] ^= 1;
    auto refused = totp_enroll::parse_pskc(pskc_file("rfc6030-preshared-key.xml"), wrong);
    assert_false(refused.ok());
    auto missing = totp_enroll::parse_pskc(pskc_file("rfc6030-preshared-key.xml"), {});
    assert_false(missing.ok());
    assert_non_null(std::strstr(missing.error().message.c_str(), "--key-file"));
}

void rfc6030_pbkdf2_example_decrypts_with_its_password_only(void**) {
    totp_enroll::PskcKey key;
    key.password = totp::SecretString("qwerty");
    auto tokens = totp_enroll::parse_pskc(pskc_file("rfc6030-pbkdf2.xml"), key);
    if (!tokens) fail_msg("%s", tokens.error().message.c_str());
    assert_rfc_hotp_token(tokens->front());
    key.password = totp::SecretString("qwertz");
    auto refused = totp_enroll::parse_pskc(pskc_file("rfc6030-pbkdf2.xml"), key);
    assert_false(refused.ok());
    assert_non_null(std::strstr(refused.error().message.c_str(), "wrong password or key"));
    assert_null(std::strstr(refused.error().message.c_str(), "qwert"));
}

void a_tampered_secret_fails_the_mac(void**) {
    std::string text = pskc_file("rfc6030-preshared-key.xml");
    const std::size_t at = text.find("AAECAwQFBgcICQoLDA0OD+cI");
    text[at + 30] = text[at + 30] == 'A' ? 'B' : 'A';
    auto refused = totp_enroll::parse_pskc(text, preshared_key());
    assert_false(refused.ok());
    assert_non_null(std::strstr(refused.error().message.c_str(), "MAC does not match"));
}

// Someone who can change the file on its way but knows no key puts a secret of their own
// in the clear next to the encrypted ones (no MAC covers a PlainValue), or swaps the whole
// file for a plain one: the key the caller gave says the file must be encrypted.
void a_plain_secret_is_refused_when_the_file_is_opened_with_a_key(void**) {
    std::string text = pskc_file("rfc6030-preshared-key.xml");
    const std::size_t from = text.find("<EncryptedValue>");
    const std::size_t to = text.find("</ValueMAC>") + std::strlen("</ValueMAC>");
    text.replace(from, to - from, "<PlainValue>QUFBQUFBQUFBQUFBQUFBQUFBQUE=</PlainValue>");
    auto planted = totp_enroll::parse_pskc(text, preshared_key());
    assert_false(planted.ok());
    assert_non_null(std::strstr(planted.error().message.c_str(), "not encrypted"));

    const auto with_password = [] {
        totp_enroll::PskcKey key;
        key.password = totp::SecretString("qwerty");
        return key;
    };
    for (const totp_enroll::PskcKey& key : {preshared_key(), with_password()}) {
        auto swapped = totp_enroll::parse_pskc(pskc_file("rfc6030-plain.xml"), key);
        assert_false(swapped.ok());
        assert_non_null(std::strstr(swapped.error().message.c_str(), "not encrypted"));
    }
}

// libxml2 copies the whole document (every PlainValue) into buffers of its own and frees
// them unwiped unless its allocator wipes. glibc hands a small block just freed straight
// back to the next request of its size, so what the free left in it can be seen; an
// allocator that does not (AddressSanitizer's quarantine) skips the check.
void memory_libxml2_frees_after_a_pskc_import_holds_nothing(void**) {
    assert_true(totp_enroll::parse_pskc(pskc_file("rfc6030-plain.xml"), {}).ok());
    constexpr std::size_t kSize = 96;
    auto* freed = static_cast<unsigned char*>(xmlMalloc(kSize));
    std::memset(freed, 'S', kSize);
    xmlFree(freed);
    auto* reused = static_cast<unsigned char*>(std::malloc(kSize));
    const bool same = reused == freed;
    std::size_t left = 0;
    if (same) {
        // The allocator's own bookkeeping fills the first bytes.
        for (std::size_t i = 32; i < kSize; ++i) left += reused[i] == 'S' ? 1 : 0;
    }
    std::free(reused);
    if (!same) skip();
    assert_int_equal(left, 0);
}

void an_encrypted_secret_without_its_mac_is_refused(void**) {
    std::string text = pskc_file("rfc6030-preshared-key.xml");
    const std::size_t from = text.find("<ValueMAC>");
    text.erase(from, text.find("</ValueMAC>") + std::strlen("</ValueMAC>") - from);
    auto refused = totp_enroll::parse_pskc(text, preshared_key());
    assert_false(refused.ok());
    assert_non_null(std::strstr(refused.error().message.c_str(), "needs a ValueMAC"));
}

void bad_pskc_documents_are_refused_with_one_line(void**) {
    const std::string plain = pskc_file("rfc6030-plain.xml");
    const std::string entity =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE KeyContainer [<!ENTITY x \"y\">]>\n" +
        plain.substr(plain.find("<KeyContainer"));
    const std::string external =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE KeyContainer [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]>\n<KeyContainer "
        "xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">&x;</KeyContainer>";
    const std::string parameter_entity =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE KeyContainer [<!ENTITY % p SYSTEM "
        "\"file:///etc/passwd\"> %p;]>\n<KeyContainer "
        "xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"/>";
    std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE KeyContainer [<!ENTITY l0 \"lol\">";
    for (int i = 1; i < 10; ++i) {
        laughs += "<!ENTITY l" + std::to_string(i) + " \"";
        for (int j = 0; j < 10; ++j) laughs += "&l" + std::to_string(i - 1) + ";";
        laughs += "\">";
    }
    laughs += "]>\n<KeyContainer xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">&l9;</KeyContainer>";
    const std::string cases[] = {
        "",
        external,
        parameter_entity,
        laughs,
        "<KeyContainer",
        "<KeyContainer xmlns=\"urn:other\"/>",
        "<KeyContainer xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"/>",
        entity,
    };
    for (const std::string& text : cases) {
        auto refused = totp_enroll::parse_pskc(text, {});
        if (refused.ok()) fail_msg("accepted: %s", text.c_str());
        assert_null(std::strchr(refused.error().message.c_str(), '\n'));
    }
}

void keys_other_than_hotp_and_totp_are_skipped_with_the_reason(void**) {
    std::string text = pskc_file("rfc6030-plain.xml");
    const std::string hotp = "pskc:hotp";
    text.replace(text.find(hotp), hotp.size(), "pskc:pin");
    auto tokens = totp_enroll::parse_pskc(text, {});
    assert_true(tokens.ok());
    assert_non_null(std::strstr(tokens->front().skipped.c_str(), "not HOTP or TOTP"));
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(totp_file_with_every_option_parses),
        cmocka_unit_test(minimal_file_defaults_to_30_seconds),
        cmocka_unit_test(crlf_line_endings_are_accepted),
        cmocka_unit_test(hotp_file_gives_a_hotp_token_at_its_next_counter),
        cmocka_unit_test(step_size_outside_15_to_300_is_unsupported),
        cmocka_unit_test(malformed_files_are_refused_without_echoing_secrets),
        cmocka_unit_test(more_than_twenty_scratch_codes_are_refused),
        cmocka_unit_test(oversized_file_is_refused),
        cmocka_unit_test(oath_time_based_lines_parse),
        cmocka_unit_test(oath_lines_that_cannot_be_imported_say_why),
        cmocka_unit_test(oath_hotp_lines_continue_after_the_counter_pam_oath_wrote),
        cmocka_unit_test(oath_totp_line_keeps_the_step_of_the_last_pam_oath_login_used),
        cmocka_unit_test(
            every_token_of_a_user_becomes_an_authenticator_of_one_record_and_the_rest_is_explained),
        cmocka_unit_test(tokens_beyond_max_authenticators_are_refused_one_by_one),
        cmocka_unit_test(a_used_step_ahead_of_the_token_clock_is_not_kept),
        cmocka_unit_test(labels_become_valid_unique_authenticator_names),
        cmocka_unit_test(rfc6030_plain_example_parses),
        cmocka_unit_test(rfc6030_preshared_key_example_decrypts_and_its_mac_is_checked),
        cmocka_unit_test(rfc6030_pbkdf2_example_decrypts_with_its_password_only),
        cmocka_unit_test(a_tampered_secret_fails_the_mac),
        cmocka_unit_test(a_plain_secret_is_refused_when_the_file_is_opened_with_a_key),
        cmocka_unit_test(memory_libxml2_frees_after_a_pskc_import_holds_nothing),
        cmocka_unit_test(an_encrypted_secret_without_its_mac_is_refused),
        cmocka_unit_test(bad_pskc_documents_are_refused_with_one_line),
        cmocka_unit_test(keys_other_than_hotp_and_totp_are_skipped_with_the_reason),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
