// SPDX-License-Identifier: Apache-2.0
// The command line of totp-enroll: subcommands, option values, and what is refused.
#include <string>
#include <vector>

#include "command_line.hpp"

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

using totp_enroll::CommandLine;
using totp_enroll::Subcommand;

// getopt_long permutes and may write into argv, so each parse gets its own copy.
totp::Result<CommandLine> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "totp-enroll");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return totp_enroll::parse_command_line(static_cast<int>(args.size()), argv.data());
}

void no_arguments_is_self_enrollment_with_a_utf8_qr_code(void**) {
    auto command = parse({});
    assert_true(command.ok());
    assert_int_equal(static_cast<int>(command->subcommand), static_cast<int>(Subcommand::enroll));
    assert_true(command->qr.has_value());
    assert_int_equal(static_cast<int>(*command->qr), static_cast<int>(totp_enroll::QrStyle::utf8));
    assert_false(command->uses_root_only_options());
}

void enrollment_options_are_parsed(void**) {
    auto command = parse({"--user",
                          "alice",
                          "--algorithm",
                          "sha256",
                          "--digits=8",
                          "--period",
                          "60",
                          "--issuer",
                          "Example",
                          "--label",
                          "alice@example.org",
                          "--qr",
                          "none",
                          "--qr-png",
                          "/tmp/a.png",
                          "--recovery-codes",
                          "0",
                          "--no-confirm",
                          "--secret",
                          "JBSWY3DPEHPK3PXP"});
    assert_true(command.ok());
    assert_string_equal(command->user->c_str(), "alice");
    assert_int_equal(static_cast<int>(*command->algorithm),
                     static_cast<int>(totp::Algorithm::sha256));
    assert_int_equal(*command->digits, 8);
    assert_int_equal(*command->period, 60);
    assert_string_equal(command->issuer->c_str(), "Example");
    assert_string_equal(command->label->c_str(), "alice@example.org");
    assert_false(command->qr.has_value());
    assert_string_equal(command->qr_png->c_str(), "/tmp/a.png");
    assert_int_equal(*command->recovery_codes, 0);
    assert_string_equal(command->secret->c_str(), "JBSWY3DPEHPK3PXP");
    assert_true(command->uses_root_only_options());
}

void the_secret_is_wiped_from_argv(void**) {
    std::string flag = "--secret";
    std::string secret = "JBSWY3DPEHPK3PXP";
    std::string program = "totp-enroll";
    char* argv[] = {program.data(), flag.data(), secret.data(), nullptr};
    auto command = totp_enroll::parse_command_line(3, argv);
    assert_true(command.ok());
    assert_string_equal(command->secret->c_str(), "JBSWY3DPEHPK3PXP");
    assert_int_equal(secret.find("JBSWY3DP"), std::string::npos);
}

void resync_codes_are_wiped_from_argv(void**) {
    std::string program = "totp-enroll";
    std::string subcommand = "resync";
    std::string flag = "--name=yubikey";
    std::string code1 = "123456";
    std::string code2 = "654321";
    char* argv[] = {program.data(), subcommand.data(), flag.data(),
                    code1.data(),   code2.data(),      nullptr};
    auto command = totp_enroll::parse_command_line(5, argv);
    assert_true(command.ok());
    assert_int_equal(command->codes.size(), 2);
    assert_string_equal(command->codes[0].c_str(), "123456");
    assert_string_equal(command->codes[1].c_str(), "654321");
    assert_int_equal(code1.find_first_not_of('\0'), std::string::npos);
    assert_int_equal(code2.find_first_not_of('\0'), std::string::npos);
}

void subcommands_take_their_operands(void**) {
    auto status = parse({"status", "bob"});
    assert_true(status.ok());
    assert_int_equal(static_cast<int>(status->subcommand), static_cast<int>(Subcommand::status));
    assert_string_equal(status->status_user->c_str(), "bob");
    assert_false(status->user.has_value());

    auto oath = parse({"import-oath", "--config", "/etc/x.conf", "/etc/users.oath"});
    assert_true(oath.ok());
    assert_string_equal(oath->file->c_str(), "/etc/users.oath");
    assert_string_equal(oath->config->c_str(), "/etc/x.conf");

    auto email = parse({"email", "alice@example.org", "--user", "alice"});
    assert_true(email.ok());
    assert_string_equal(email->address->c_str(), "alice@example.org");

    auto list = parse({"list", "--json"});
    assert_true(list.ok() && list->json);

    auto pskc = parse({"import-pskc", "tokens.pskc", "--map", "123=alice", "--map", "4=b=c",
                       "--map-file", "m.csv", "--password-file", "pw"});
    if (!pskc) fail_msg("%s", pskc.error().message.c_str());
    assert_string_equal(pskc->file->c_str(), "tokens.pskc");
    assert_int_equal(pskc->serial_map.size(), 2);
    assert_string_equal(pskc->serial_map[0].first.c_str(), "123");
    assert_string_equal(pskc->serial_map[0].second.c_str(), "alice");
    assert_string_equal(pskc->serial_map[1].second.c_str(), "b=c");
    assert_string_equal(pskc->map_file->c_str(), "m.csv");
    assert_string_equal(pskc->password_file->c_str(), "pw");
}

void help_and_version_win(void**) {
    assert_int_equal(static_cast<int>(parse({"status", "--help"})->subcommand),
                     static_cast<int>(Subcommand::help));
    assert_int_equal(static_cast<int>(parse({"--version"})->subcommand),
                     static_cast<int>(Subcommand::version));
}

void bad_command_lines_are_usage_errors(void**) {
    const std::vector<std::vector<std::string>> bad = {
        {"--bogus"},
        {"-x"},
        {"--user"},
        {"--algorithm", "MD5"},
        {"--digits", "5"},
        {"--digits", "6x"},
        {"--period", "301"},
        {"--period", "14"},
        {"--qr", "sixel"},
        {"--recovery-codes", "-1"},
        {"--recovery-codes", "21"},
        {"--label", ""},
        {"--label", "ops:alice"},
        {"--issuer", std::string(129, 'x')},
        {"--issuer", "tab\there"},
        {"frobnicate"},
        {"status", "alice", "bob"},
        {"status", "--no-confirm"},
        {"list", "--user", "alice"},
        {"remove"},
        {"unlock"},
        {"import-oath"},
        {"import-pskc", "f"},
        {"import-pskc", "f", "--map", "123"},
        {"import-pskc", "f", "--map", "=alice"},
        {"import-pskc", "f", "--map", "123="},
        {"import-pskc", "f", "--map", "1=a", "--key-file", ""},
        {"import-pskc", "f", "--map", "1=a", "--password-file", "p", "--password-file", "q"},
        {"--map", "1=a"},
        {"import-oath", "f", "--map", "1=a"},
        {"email"},
        {"--user", "a", "--user", "b"},
    };
    for (const auto& args : bad) {
        auto command = parse(args);
        if (command.ok()) fail_msg("accepted: %s ...", args[0].c_str());
        assert_int_equal(command.error().code, totp::Errc::invalid_argument);
        assert_true(command.error().message.find('\n') == std::string::npos);
    }
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(no_arguments_is_self_enrollment_with_a_utf8_qr_code),
        cmocka_unit_test(enrollment_options_are_parsed),
        cmocka_unit_test(the_secret_is_wiped_from_argv),
        cmocka_unit_test(resync_codes_are_wiped_from_argv),
        cmocka_unit_test(subcommands_take_their_operands),
        cmocka_unit_test(help_and_version_win),
        cmocka_unit_test(bad_command_lines_are_usage_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
