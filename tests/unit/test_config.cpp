// SPDX-License-Identifier: Apache-2.0
// Settings: one key table for module arguments and /etc/security/pam_totp.conf.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "totp/config.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"
#include "totp/rollout.hpp"

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

using totp::apply_setting;
using totp::ConfigProblem;
using totp::load_config_file;
using totp::Settings;

namespace {

using Problems = std::vector<ConfigProblem>;

Problems apply(Settings& settings, std::string_view key, std::string_view value) {
    Problems problems;
    apply_setting(settings, key, value, problems);
    return problems;
}

// Applies a value that must be refused: exactly one problem with the given flag, and
// `settings` unchanged.
void expect_refused(std::string_view key, std::string_view value, bool security_relevant) {
    Settings settings;
    const Settings before = settings;
    const Problems problems = apply(settings, key, value);
    if (problems.size() != 1) {
        print_error("%.*s=%.*s: expected one problem, got %zu\n", int(key.size()), key.data(),
                    int(value.size()), value.data(), problems.size());
        fail();
    }
    assert_int_equal(problems[0].security_relevant, security_relevant);
    assert_true(problems[0].message.starts_with("bad value for '" + std::string(key) + "'"));
    assert_string_equal(settings.state_dir.c_str(), before.state_dir.c_str());
    assert_string_equal(settings.secret_path.c_str(), before.secret_path.c_str());
    assert_string_equal(settings.require_group.c_str(), before.require_group.c_str());
    assert_string_equal(settings.exempt_group.c_str(), before.exempt_group.c_str());
    assert_string_equal(settings.prompt.c_str(), before.prompt.c_str());
    assert_string_equal(settings.issuer.c_str(), before.issuer.c_str());
    assert_int_equal(settings.window, before.window);
    assert_int_equal(settings.max_failures, before.max_failures);
    assert_int_equal(settings.lockout_seconds, before.lockout_seconds);
    assert_int_equal(settings.nullok, before.nullok);
    assert_int_equal(settings.params.algorithm, before.params.algorithm);
    assert_int_equal(settings.params.digits, before.params.digits);
    assert_int_equal(settings.params.period, before.params.period);
    assert_int_equal(settings.recovery_codes, before.recovery_codes);
}

void expect_accepted(Settings& settings, std::string_view key, std::string_view value) {
    const Problems problems = apply(settings, key, value);
    if (!problems.empty()) {
        print_error("%.*s=%.*s: %s\n", int(key.size()), key.data(), int(value.size()), value.data(),
                    problems[0].message.c_str());
        fail();
    }
}

// --- Defaults ----------------------------------------------------------------------------

void defaults_are_the_safe_choices(void**) {
    const Settings settings;
    assert_string_equal(settings.state_dir.c_str(), "/var/lib/pam_totp");
    assert_true(settings.secret_path.empty());
    assert_int_equal(settings.window, 1);
    assert_int_equal(settings.max_failures, 5);
    assert_int_equal(settings.lockout_seconds, 300);
    assert_false(settings.nullok);
    assert_true(settings.require_group.empty());
    assert_true(settings.exempt_group.empty());
    assert_string_equal(settings.prompt.c_str(), "Verification code: ");
    assert_false(settings.forward_pass);
    assert_false(settings.try_first_pass);
    assert_false(settings.use_first_pass);
    assert_false(settings.debug);
    assert_true(settings.issuer.empty());
    assert_int_equal(settings.params.algorithm, totp::Algorithm::sha1);
    assert_int_equal(settings.params.digits, 6);
    assert_int_equal(settings.params.period, 30);
    assert_int_equal(settings.recovery_codes, 10);
}

// --- Integers ----------------------------------------------------------------------------

void integer_settings_accept_both_ends_of_their_range(void**) {
    Settings settings;
    expect_accepted(settings, "window", "0");
    assert_int_equal(settings.window, 0);
    expect_accepted(settings, "window", "10");
    assert_int_equal(settings.window, 10);
    expect_accepted(settings, "max_failures", "1");
    assert_int_equal(settings.max_failures, 1);
    expect_accepted(settings, "max_failures", "1000");
    assert_int_equal(settings.max_failures, 1000);
    expect_accepted(settings, "lockout_seconds", "1");
    assert_int_equal(settings.lockout_seconds, 1);
    expect_accepted(settings, "lockout_seconds", "86400");
    assert_int_equal(settings.lockout_seconds, 86400);
    expect_accepted(settings, "digits", "8");
    assert_int_equal(settings.params.digits, 8);
    expect_accepted(settings, "digits", "6");
    assert_int_equal(settings.params.digits, 6);
    expect_accepted(settings, "period", "15");
    assert_int_equal(settings.params.period, 15);
    expect_accepted(settings, "period", "300");
    assert_int_equal(settings.params.period, 300);
    expect_accepted(settings, "recovery_codes", "0");
    assert_int_equal(settings.recovery_codes, 0);
    expect_accepted(settings, "recovery_codes", "20");
    assert_int_equal(settings.recovery_codes, 20);
}

void integer_outside_its_range_is_refused_and_default_kept(void**) {
    expect_refused("window", "11", true);
    expect_refused("max_failures", "0", true);
    expect_refused("max_failures", "1001", true);
    expect_refused("lockout_seconds", "0", true);
    expect_refused("lockout_seconds", "86401", true);
    expect_refused("digits", "5", false);
    expect_refused("digits", "9", false);
    expect_refused("period", "14", false);
    expect_refused("period", "301", false);
    expect_refused("recovery_codes", "21", false);
}

void integer_must_be_plain_decimal(void**) {
    for (const char* value :
         {"", "+3", "-1", "-0", " 3", "3 ", "3x", "0x3", "3.0", "1e1", "99999999999999999999"}) {
        expect_refused("window", value, true);
    }
}

void bad_value_message_names_key_value_and_expected_range(void**) {
    Settings settings;
    const Problems problems = apply(settings, "window", "99");
    assert_int_equal(problems.size(), 1);
    assert_string_equal(problems[0].message.c_str(),
                        "bad value for 'window': '99' (expected 0-10)");
}

void bad_store_dsn_is_reported_without_its_password(void**) {
    Settings settings;
    const Problems problems =
        apply(settings, "store_dsn", "host=db password=hunter2-secret\napplication_name=x");
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_string_equal(problems[0].message.c_str(),
                        "bad value for 'store_dsn': (value not shown) (expected a libpq "
                        "connection string without control characters)");
    assert_true(settings.store_dsn.empty());
}

void echoed_value_is_capped_and_stripped_of_control_characters(void**) {
    Settings settings;
    const std::string value = "\x1b[31m" + std::string(200, 'A') + "\n";
    const Problems problems = apply(settings, "window", value);
    assert_int_equal(problems.size(), 1);
    const std::string& message = problems[0].message;
    for (char c : message) {
        assert_true(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
    }
    assert_true(message.size() < 64 + 60);
}

// --- Booleans ----------------------------------------------------------------------------

void booleans_accept_yes_and_no_words_in_any_case(void**) {
    Settings settings;
    for (const char* yes : {"1", "yes", "YES", "true", "True", "on", "ON"}) {
        settings.nullok = false;
        expect_accepted(settings, "nullok", yes);
        assert_true(settings.nullok);
    }
    for (const char* no : {"0", "no", "No", "false", "FALSE", "off", "Off"}) {
        settings.nullok = true;
        expect_accepted(settings, "nullok", no);
        assert_false(settings.nullok);
    }
}

void bare_flag_means_true(void**) {
    Settings settings;
    for (const char* flag :
         {"nullok", "forward_pass", "try_first_pass", "use_first_pass", "debug"}) {
        expect_accepted(settings, flag, "");
    }
    assert_true(settings.nullok);
    assert_true(settings.forward_pass);
    assert_true(settings.try_first_pass);
    assert_true(settings.use_first_pass);
    assert_true(settings.debug);
}

void unrecognised_boolean_is_refused_and_previous_value_kept(void**) {
    expect_refused("nullok", "maybe", true);
    expect_refused("nullok", "y", true);
    expect_refused("nullok", "2", true);
    expect_refused("debug", "verbose", false);
    expect_refused("forward_pass", "yes please", false);

    Settings settings;
    expect_accepted(settings, "nullok", "yes");
    assert_int_equal(apply(settings, "nullok", "maybe").size(), 1);
    assert_true(settings.nullok);
}

// --- Text --------------------------------------------------------------------------------

void state_dir_must_be_absolute_without_dotdot(void**) {
    Settings settings;
    expect_accepted(settings, "state_dir", "/srv/totp/state");
    assert_string_equal(settings.state_dir.c_str(), "/srv/totp/state");
    expect_accepted(settings, "state_dir", "/srv/..hidden/x..");
    for (const char* bad :
         {"", "var/lib/pam_totp", "~/totp", "/var/../etc", "/var/lib/..", "..", "/var/lib\n/x"}) {
        expect_refused("state_dir", bad, true);
    }
}

void secret_path_accepts_absolute_or_home_path_with_user_escape(void**) {
    Settings settings;
    expect_accepted(settings, "secret_path", "~/.config/pam_totp");
    assert_string_equal(settings.secret_path.c_str(), "~/.config/pam_totp");
    expect_accepted(settings, "secret_path", "/etc/totp/%u.state");
    assert_string_equal(settings.secret_path.c_str(), "/etc/totp/%u.state");
    for (const char* bad : {"relative/%u", "~user/x", "~", "/x/../y", "~/../etc/shadow", "/x/%h",
                            "/x/%", "/x/%%u", "/x\t/%u"}) {
        expect_refused("secret_path", bad, true);
    }
}

void group_names_must_be_plain_words(void**) {
    Settings settings;
    expect_accepted(settings, "require_group", "totp-users");
    assert_string_equal(settings.require_group.c_str(), "totp-users");
    expect_accepted(settings, "exempt_group", "wheel");
    assert_string_equal(settings.exempt_group.c_str(), "wheel");
    expect_accepted(settings, "verify_helper_group", "totp-verifiers");
    assert_string_equal(settings.verify_helper_group.c_str(), "totp-verifiers");
    for (const char* key : {"require_group", "exempt_group", "verify_helper_group"}) {
        for (const char* bad : {"two words", "tab\there", "a/b", "bell\a"}) {
            expect_refused(key, bad, true);
        }
    }
}

void empty_value_unsets_optional_settings(void**) {
    Settings settings;
    expect_accepted(settings, "secret_path", "~/.pam_totp");
    expect_accepted(settings, "require_group", "totp-users");
    expect_accepted(settings, "exempt_group", "wheel");
    expect_accepted(settings, "issuer", "Example Corp");
    for (const char* key : {"secret_path", "require_group", "exempt_group", "issuer"}) {
        expect_accepted(settings, key, "");
    }
    assert_true(settings.secret_path.empty());
    assert_true(settings.require_group.empty());
    assert_true(settings.exempt_group.empty());
    assert_true(settings.issuer.empty());
}

void prompt_takes_up_to_128_printable_characters(void**) {
    Settings settings;
    expect_accepted(settings, "prompt", "Código: ");
    assert_string_equal(settings.prompt.c_str(), "Código: ");
    expect_accepted(settings, "prompt", std::string(128, 'p'));
    expect_refused("prompt", "", false);
    expect_refused("prompt", std::string(129, 'p'), false);
    expect_refused("prompt", "Code:\n", false);
    expect_refused("prompt", "\x1b]0;owned\a", false);
}

void issuer_takes_up_to_128_printable_characters_or_nothing(void**) {
    Settings settings;
    expect_accepted(settings, "issuer", "Example Corp");
    assert_string_equal(settings.issuer.c_str(), "Example Corp");
    expect_accepted(settings, "issuer", "");
    assert_true(settings.issuer.empty());
    expect_refused("issuer", std::string(129, 'i'), false);
    expect_refused("issuer", "Example\rCorp", false);
}

void algorithm_accepts_the_sha_names(void**) {
    Settings settings;
    expect_accepted(settings, "algorithm", "SHA256");
    assert_int_equal(settings.params.algorithm, totp::Algorithm::sha256);
    expect_accepted(settings, "algorithm", "sha512");
    assert_int_equal(settings.params.algorithm, totp::Algorithm::sha512);
    expect_accepted(settings, "algorithm", "SHA1");
    assert_int_equal(settings.params.algorithm, totp::Algorithm::sha1);
    expect_refused("algorithm", "MD5", false);
    expect_refused("algorithm", "", false);
}

// --- Keys --------------------------------------------------------------------------------

// A misspelt module argument ("nulok=no") must not leave a weaker policy in place.
void unknown_setting_is_security_relevant(void**) {
    Settings settings;
    const Problems problems = apply(settings, "foo", "1");
    assert_int_equal(problems.size(), 1);
    assert_string_equal(problems[0].message.c_str(), "unknown setting 'foo'");
    assert_true(problems[0].security_relevant);
}

// "nullok=" as a module argument is not the bare flag "nullok".
void empty_yes_no_argument_is_security_relevant_not_yes(void**) {
    Settings settings;
    Problems problems;
    totp::apply_argument(settings, "nullok=", problems);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_false(settings.nullok);
    problems.clear();
    totp::apply_argument(settings, "nullok", problems);
    assert_true(problems.empty());
    assert_true(settings.nullok);
}

// Settings only the file's readers use (totp-verify reads no module arguments) are refused as
// module arguments, not taken and then ignored.
void file_only_settings_are_refused_as_module_arguments(void**) {
    for (const char* argument :
         {"trusted_networks=10.0.0.0/8", "verify_helper_group=totp-verifiers"}) {
        Settings settings;
        Problems problems;
        totp::apply_argument(settings, argument, problems);
        assert_int_equal(problems.size(), 1);
        assert_true(problems[0].security_relevant);
        assert_true(settings.verify_helper_group.empty());
    }
}

void keys_are_case_sensitive_like_other_module_arguments(void**) {
    Settings settings;
    const Problems problems = apply(settings, "NULLOK", "");
    assert_int_equal(problems.size(), 1);
    assert_false(settings.nullok);
}

void setting_names_lists_every_key_apply_setting_accepts(void**) {
    const auto names = totp::setting_names();
    assert_int_equal(names.size(), 28);
    assert_int_equal(std::set<std::string_view>(names.begin(), names.end()).size(), names.size());
    for (std::string_view name : names) {
        Settings settings;
        for (const ConfigProblem& problem : apply(settings, name, "x")) {
            assert_null(std::strstr(problem.message.c_str(), "unknown setting"));
        }
    }
}

// --- Files -------------------------------------------------------------------------------

// Every test that touches files works in one temporary directory, made once per run.
std::string temp_dir;

int make_temp_dir(void**) {
    char pattern[] = "/tmp/test_config.XXXXXX";
    if (mkdtemp(pattern) == nullptr) return -1;
    temp_dir = pattern;
    return 0;
}

int remove_temp_dir(void**) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir, ignored);
    return 0;
}

std::string temp_path(std::string_view name) {
    return temp_dir + "/" + std::string(name);
}

std::string write_file(std::string_view name, std::string_view content, mode_t mode = 0644) {
    const std::string path = temp_path(name);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content.data(), content.size()), content.size());
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

// Ownership checks need files owned by root, which only root can make.
void skip_unless_root() {
    if (geteuid() != 0) skip();
}

bool has_problem(const Problems& problems, std::string_view text, bool security_relevant) {
    for (const ConfigProblem& problem : problems) {
        if (problem.message.find(text) != std::string::npos &&
            problem.security_relevant == security_relevant) {
            return true;
        }
    }
    return false;
}

void print_problems(const Problems& problems) {
    for (const ConfigProblem& problem : problems) {
        print_message("  problem: %s%s\n", problem.message.c_str(),
                      problem.security_relevant ? " (security)" : "");
    }
}

void valid_file_sets_global_keys(void**) {
    skip_unless_root();
    const std::string path = write_file("valid.conf",
                                        "# comment\n"
                                        "[global]\n"
                                        "window = 3\n"
                                        "max_failures = 7\n"
                                        "nullok = yes\n"
                                        "debug = on\n"
                                        "require_group = totp-users\n"
                                        "algorithm = SHA256\n"
                                        "; another comment\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    print_problems(problems);
    assert_true(problems.empty());
    assert_int_equal(settings.window, 3);
    assert_int_equal(settings.max_failures, 7);
    assert_true(settings.nullok);
    assert_true(settings.debug);
    assert_string_equal(settings.require_group.c_str(), "totp-users");
    assert_int_equal(settings.params.algorithm, totp::Algorithm::sha256);
    assert_int_equal(settings.lockout_seconds, 300);
}

void section_and_key_names_are_case_insensitive_in_the_file(void**) {
    skip_unless_root();
    const std::string path = write_file("case.conf", "[GLOBAL]\nWindow = 4\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(problems.empty());
    assert_int_equal(settings.window, 4);
}

void quoted_values_are_unquoted(void**) {
    skip_unless_root();
    const std::string path = write_file("quoted.conf",
                                        "[global]\n"
                                        "prompt = \"Second factor: \"\n"
                                        "issuer = 'Example Corp'\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(problems.empty());
    assert_string_equal(settings.prompt.c_str(), "Second factor: ");
    assert_string_equal(settings.issuer.c_str(), "Example Corp");
}

void bad_value_in_file_is_reported_and_default_kept(void**) {
    skip_unless_root();
    const std::string path = write_file("badvalue.conf", "[global]\nwindow = 99\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_int_equal(problems.size(), 1);
    assert_true(has_problem(problems, "bad value for 'window': '99' (expected 0-10)", true));
    assert_int_equal(settings.window, 1);
}

void missing_file_is_silent_when_missing_ok(void**) {
    const std::string path = temp_path("absent.conf");
    Settings settings;
    Problems problems;
    load_config_file(path, true, settings, problems);
    assert_true(problems.empty());
}

void missing_file_is_refused_when_required(void**) {
    const std::string path = temp_path("absent.conf");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
}

void symlinked_file_is_refused_even_when_missing_ok(void**) {
    skip_unless_root();
    const std::string target = write_file("target.conf", "[global]\nnullok = yes\n");
    const std::string link = temp_path("link.conf");
    assert_int_equal(symlink(target.c_str(), link.c_str()), 0);
    Settings settings;
    Problems problems;
    load_config_file(link, true, settings, problems);
    assert_true(has_problem(problems, "is a symlink", true));
    assert_false(settings.nullok);
}

void dangling_symlink_is_refused_even_when_missing_ok(void**) {
    const std::string link = temp_path("dangling.conf");
    assert_int_equal(symlink("/nonexistent/pam_totp.conf", link.c_str()), 0);
    Settings settings;
    Problems problems;
    load_config_file(link, true, settings, problems);
    assert_true(has_problem(problems, "is a symlink", true));
}

void group_writable_file_is_refused(void**) {
    skip_unless_root();
    const std::string path = write_file("gw.conf", "[global]\nnullok = yes\n", 0664);
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(has_problem(problems, "writable by group or other", true));
    assert_false(settings.nullok);
}

void world_writable_file_is_refused(void**) {
    skip_unless_root();
    const std::string path = write_file("ow.conf", "[global]\nnullok = yes\n", 0646);
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(has_problem(problems, "writable by group or other", true));
    assert_false(settings.nullok);
}

void file_not_owned_by_root_is_refused(void**) {
    skip_unless_root();
    const std::string path = write_file("owned.conf", "[global]\nnullok = yes\n");
    assert_int_equal(chown(path.c_str(), 1234, 1234), 0);
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(has_problem(problems, "not owned by root", true));
    assert_false(settings.nullok);
}

void directory_is_refused(void**) {
    Settings settings;
    Problems problems;
    load_config_file(temp_dir, false, settings, problems);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
}

void relative_path_is_refused(void**) {
    Settings settings;
    Problems problems;
    load_config_file("pam_totp.conf", true, settings, problems);
    assert_true(has_problem(problems, "not an absolute path", true));
}

void syntax_error_is_refused(void**) {
    skip_unless_root();
    const std::string path =
        write_file("syntax.conf", "[global]\nwindow = 3\nthis line has no equals sign\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(has_problem(problems, "syntax error", true));
    assert_int_equal(settings.window, 1);
}

void oversize_file_is_refused(void**) {
    skip_unless_root();
    std::string content = "[global]\nnullok = yes\n";
    while (content.size() <= 64 * 1024) content += "# padding padding padding padding padding\n";
    const std::string path = write_file("big.conf", content);
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    assert_true(has_problem(problems, "larger than 64 KiB", true));
    assert_false(settings.nullok);
}

void reset_section_is_left_to_the_reset_service(void**) {
    skip_unless_root();
    const std::string path = write_file("reset.conf",
                                        "[global]\nwindow = 2\n"
                                        "[reset]\nsmtp_url = smtp://mail.example.com\n"
                                        "token_lifetime = 600\n");
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    print_problems(problems);
    assert_true(problems.empty());
    assert_int_equal(settings.window, 2);
}

// --- Keys in the wrong place (a setting the module never reads must not look enforced) ---

// The content of the shipped config/pam_totp.conf.
std::string shipped_config() {
    const auto shipped =
        std::filesystem::path(__FILE__).parent_path() / "../../config/pam_totp.conf";
    std::ifstream in(shipped);
    assert_true(in.good());
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

int line_count(std::string_view text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

Problems load_text(std::string_view content, Settings& settings) {
    const std::string path = write_file("layout.conf", content);
    Problems problems;
    load_config_file(path, false, settings, problems);
    print_problems(problems);
    return problems;
}

// One security-relevant problem whose message holds every one of `parts`.
void expect_one_security_problem(const Problems& problems,
                                 std::initializer_list<std::string_view> parts) {
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    for (std::string_view part : parts) {
        if (problems[0].message.find(part) == std::string::npos) {
            print_error("'%.*s' missing from: %s\n", int(part.size()), part.data(),
                        problems[0].message.c_str());
            fail();
        }
    }
}

void nullok_appended_after_the_shipped_reset_section_is_refused_with_its_line(void**) {
    skip_unless_root();
    const std::string shipped = shipped_config();
    const std::string line = std::to_string(line_count(shipped) + 1);
    Settings settings;
    const Problems problems = load_text(shipped + "nullok = no\n", settings);
    expect_one_security_problem(problems, {"'nullok'", "[reset]", "[global]", "line " + line});
}

void global_key_in_reset_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text(
        "[global]\n[reset]\nbase_url = https://reset.example.org/\nmax_failures = 3\n", settings);
    expect_one_security_problem(problems, {"'max_failures'", "[reset]", "line 4"});
    assert_int_equal(settings.max_failures, 5);
}

void reset_key_in_global_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text("[global]\nsmtp_url = smtp://mail.example.org\n", settings);
    expect_one_security_problem(problems, {"'smtp_url'", "[global]", "[reset]", "line 2"});
}

void key_in_unknown_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text("[global]\nwindow = 2\n[globl]\nnullok = no\n", settings);
    assert_true(has_problem(problems, "unknown section [globl]", true));
    assert_true(has_problem(problems, "'nullok'", true));
    assert_true(has_problem(problems, "line 4", true));
    for (const ConfigProblem& problem : problems) assert_true(problem.security_relevant);
    assert_int_equal(settings.window, 2);
}

void key_outside_any_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text("nullok = yes\n[global]\n", settings);
    expect_one_security_problem(problems, {"'nullok'", "outside any section", "line 1"});
    assert_false(settings.nullok);
}

void unknown_key_in_file_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text("[global]\n\nnulok = no\n", settings);
    expect_one_security_problem(problems, {"unknown setting 'nulok'", "[global]", "line 3"});
}

void unknown_key_in_reset_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[reset]\nbase_ulr = https://reset.example.org/\n", settings);
    expect_one_security_problem(problems, {"unknown setting 'base_ulr'", "[reset]", "line 2"});
}

void empty_yes_no_value_in_file_is_security_relevant(void**) {
    skip_unless_root();
    for (const char* line : {"nullok =\n", "nullok =    \n", "nullok = \"\"\n", "debug=\n"}) {
        Settings settings;
        const Problems problems = load_text(std::string("[global]\n") + line, settings);
        expect_one_security_problem(problems, {"empty", "[global]", "line 2"});
        assert_false(settings.nullok);
        assert_false(settings.debug);
    }
}

void empty_number_in_file_is_a_bad_value(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text("[global]\nwindow =\n", settings);
    expect_one_security_problem(problems, {"bad value for 'window'"});
    assert_int_equal(settings.window, 1);
}

void key_set_twice_in_a_section_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[global]\nnullok = yes\n[reset]\n[global]\nNullok = no\n", settings);
    expect_one_security_problem(problems, {"'nullok'", "[global]", "more than once", "line 5"});
}

void reset_key_set_twice_is_security_relevant(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[reset]\ntoken_lifetime = 60\ntoken_lifetime = 6000\n", settings);
    expect_one_security_problem(problems, {"'token_lifetime'", "[reset]", "more than once"});
}

// iniparser joins a line ending in '\\' with the next one: "nullok = yes" below is part of
// the issuer, not a second nullok.
void continued_line_is_one_entry_as_iniparser_reads_it(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[global]\nissuer = Example \\\nnullok = yes\nnullok = no\n", settings);
    assert_true(problems.empty());
    assert_string_equal(settings.issuer.c_str(), "Example nullok = yes");
    assert_false(settings.nullok);
}

void repeated_section_header_is_not_an_error(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[global]\nwindow = 2\n[reset]\n[global]\nnullok = no\n", settings);
    assert_true(problems.empty());
    assert_int_equal(settings.window, 2);
}

void problems_never_show_the_value_of_a_misplaced_key(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems = load_text(
        "[reset]\nstore_dsn = password=MARKER-9f3a\n[x]\ny = MARKER-9f3a\n[global]\nnulok = "
        "MARKER-9f3a\nnullok =\n",
        settings);
    assert_int_equal(problems.size(), 5);
    for (const ConfigProblem& problem : problems) {
        assert_null(std::strstr(problem.message.c_str(), "MARKER"));
    }
}

// Every key of the file belongs to exactly one section; [reset] holds what the mail and
// reset-service loaders read, which the module does not link.
void every_key_belongs_to_exactly_one_section(void**) {
    const auto global = totp::section_key_names("global");
    const auto reset = totp::section_key_names("reset");
    const auto names = totp::setting_names();
    assert_true(std::set<std::string_view>(global.begin(), global.end()) ==
                std::set<std::string_view>(names.begin(), names.end()));
    std::set<std::string_view> expected_reset;
    for (std::string_view name : totp::mail_setting_names()) expected_reset.insert(name);
    for (std::string_view name : totp::reset_setting_names()) expected_reset.insert(name);
    assert_true(std::set<std::string_view>(reset.begin(), reset.end()) == expected_reset);
    assert_int_equal(reset.size(), expected_reset.size());
    for (std::string_view name : global) assert_int_equal(expected_reset.count(name), 0);
    assert_true(totp::section_key_names("sshd").empty());
}

// --- What the parser sees and says -------------------------------------------------------

// iniparser's default error callback prints the offending line on stderr: for totp-enroll that
// is the terminal of an unprivileged caller, and the line may hold a password.
void syntax_error_reports_line_numbers_and_never_the_line(void**) {
    skip_unless_root();
    const std::string path =
        write_file("secret-line.conf", "[global]\nwindow = 2\nMARKER-7c1e hunter2\n");
    const std::string captured = temp_path("stderr.txt");
    const int saved = dup(STDERR_FILENO);
    const int sink = open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && sink >= 0);
    assert_int_equal(dup2(sink, STDERR_FILENO), STDERR_FILENO);
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(sink);
    std::ifstream in(captured);
    const std::string written((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    print_problems(problems);
    assert_true(written.find("MARKER") == std::string::npos);
    assert_true(written.find("hunter2") == std::string::npos);
    expect_one_security_problem(problems, {"syntax error", "line 3"});
    assert_null(std::strstr(problems[0].message.c_str(), "MARKER"));
}

// iniparser gives up on a line over 1024 bytes; where it stopped is all that is said.
void overlong_line_is_refused_by_its_number(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text("[global]\nissuer = " + std::string(2000, 'x') + "\nnullok = yes\n", settings);
    expect_one_security_problem(problems, {"line 2"});
    assert_false(settings.nullok);
}

// iniparser stops reading a line at a NUL; what follows it could not be checked.
void nul_byte_is_refused(void**) {
    skip_unless_root();
    Settings settings;
    const Problems problems =
        load_text(std::string("[global]\nwindow = 2\0\nnullok = yes\n", 34), settings);
    expect_one_security_problem(problems, {"NUL"});
    assert_false(settings.nullok);
}

// Set by the test below: the next fopen() (iniparser opening its file) first renames
// `swap_from` over `swap_to`, as an attacker racing the loader would.
std::string swap_from;
std::string swap_to;

void file_replaced_after_its_checks_is_not_what_gets_parsed(void**) {
    skip_unless_root();
    const std::string path = write_file("swapped.conf", "[global]\nwindow = 3\n");
    swap_from = write_file("replacement.conf", "[global]\nnullok = yes\nwindow = 9\n", 0666);
    swap_to = path;
    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    print_problems(problems);
    assert_true(swap_from.empty());  // the swap did happen, during the load
    assert_true(problems.empty());
    assert_int_equal(settings.window, 3);
    assert_false(settings.nullok);
}

}  // namespace

// iniparser opens its file with fopen(); this stands in for libc's to play the swap.
extern "C" FILE* fopen(const char* path, const char* mode) {
    using Fopen = FILE* (*)(const char*, const char*);
    static const auto real = reinterpret_cast<Fopen>(dlsym(RTLD_NEXT, "fopen"));
    if (!swap_from.empty()) {
        if (rename(swap_from.c_str(), swap_to.c_str()) != 0) abort();
        swap_from.clear();
    }
    return real(path, mode);
}

namespace {

// An administrator who uncomments a default line of the shipped file must get exactly the
// default, not a bad value that locks everybody out.
void shipped_file_as_installed_loads_cleanly(void**) {
    skip_unless_root();
    Settings settings;
    assert_true(load_text(shipped_config(), settings).empty());
}

void shipped_file_with_every_default_uncommented_loads_cleanly(void**) {
    skip_unless_root();
    std::istringstream in(shipped_config());
    std::string content;
    int uncommented = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.size() > 1 && line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
            line.find(" =") != std::string::npos) {
            line.erase(0, 1);
            ++uncommented;
        }
        content += line + "\n";
    }
    assert_int_equal(uncommented, totp::section_key_names("global").size() +
                                      totp::section_key_names("reset").size());
    const std::string path = write_file("shipped.conf", content);

    Settings settings;
    Problems problems;
    load_config_file(path, false, settings, problems);
    print_problems(problems);
    assert_true(problems.empty());
    const Settings defaults;
    assert_string_equal(settings.state_dir.c_str(), defaults.state_dir.c_str());
    assert_string_equal(settings.prompt.c_str(), defaults.prompt.c_str());
    assert_int_equal(settings.window, defaults.window);
    assert_int_equal(settings.max_failures, defaults.max_failures);
    assert_int_equal(settings.lockout_seconds, defaults.lockout_seconds);
    assert_int_equal(settings.nullok, defaults.nullok);
    assert_int_equal(settings.params.algorithm, defaults.params.algorithm);
    assert_int_equal(settings.params.digits, defaults.params.digits);
    assert_int_equal(settings.params.period, defaults.params.period);
    assert_int_equal(settings.recovery_codes, defaults.recovery_codes);
}

// --- The rollout file ------------------------------------------------------------------

// Either source saying no wins; then either saying yes; then the built-in no.
void effective_nullok_combines_the_two_sources_towards_enforcement(void**) {
    using totp::Rollout;
    struct Row {
        std::optional<bool> setting;
        Rollout rollout;
        bool nullok;
    };
    const Row rows[] = {
        {std::nullopt, Rollout::unset, false},   {std::nullopt, Rollout::rollout, true},
        {std::nullopt, Rollout::enforce, false}, {true, Rollout::unset, true},
        {true, Rollout::rollout, true},          {true, Rollout::enforce, false},
        {false, Rollout::unset, false},          {false, Rollout::rollout, false},
        {false, Rollout::enforce, false},
    };
    for (const Row& row : rows) {
        assert_int_equal(totp::effective_nullok(row.setting, row.rollout), row.nullok);
    }
}

void rollout_file_next_to_the_config_sets_the_mode_and_nullok(void**) {
    skip_unless_root();
    const std::string config = write_file("with-rollout.conf", "[global]\n");
    write_file("pam_totp.rollout", "# comment\n\n  rollout  \n# another\n");
    Settings settings;
    Problems problems;
    load_config_file(config, false, settings, problems);
    print_problems(problems);
    assert_true(problems.empty());
    assert_int_equal(settings.rollout, totp::Rollout::rollout);
    assert_true(settings.nullok);
    // A later nullok = no (a module argument) still wins.
    assert_true(apply(settings, "nullok", "no").empty());
    assert_false(settings.nullok);
    std::filesystem::remove(temp_path("pam_totp.rollout"));
}

void rollout_file_that_is_not_one_mode_line_is_a_security_problem_naming_the_line(void**) {
    skip_unless_root();
    const std::string config = write_file("bad-rollout.conf", "[global]\nnullok = yes\n");
    const std::string rollout = temp_path("pam_totp.rollout");
    const struct {
        const char* text;
        const char* where;
    } cases[] = {
        {"rollout\nenforce\n", ", line 2: "}, {"# x\nEnforce\n", ", line 2: "},
        {"enforce now\n", ", line 1: "},      {"# nothing\n", ": no 'rollout' or 'enforce'"},
        {"", ": no 'rollout' or 'enforce'"},
    };
    for (const auto& bad : cases) {
        write_file("pam_totp.rollout", bad.text);
        Settings settings;
        Problems problems;
        load_config_file(config, false, settings, problems);
        assert_int_equal(problems.size(), 1);
        assert_true(problems[0].security_relevant);
        assert_true(problems[0].message.starts_with("rollout file " + rollout + bad.where));
    }
    std::filesystem::remove(rollout);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_safe_choices),
        cmocka_unit_test(integer_settings_accept_both_ends_of_their_range),
        cmocka_unit_test(integer_outside_its_range_is_refused_and_default_kept),
        cmocka_unit_test(integer_must_be_plain_decimal),
        cmocka_unit_test(bad_value_message_names_key_value_and_expected_range),
        cmocka_unit_test(bad_store_dsn_is_reported_without_its_password),
        cmocka_unit_test(echoed_value_is_capped_and_stripped_of_control_characters),
        cmocka_unit_test(booleans_accept_yes_and_no_words_in_any_case),
        cmocka_unit_test(bare_flag_means_true),
        cmocka_unit_test(unrecognised_boolean_is_refused_and_previous_value_kept),
        cmocka_unit_test(state_dir_must_be_absolute_without_dotdot),
        cmocka_unit_test(secret_path_accepts_absolute_or_home_path_with_user_escape),
        cmocka_unit_test(group_names_must_be_plain_words),
        cmocka_unit_test(empty_value_unsets_optional_settings),
        cmocka_unit_test(prompt_takes_up_to_128_printable_characters),
        cmocka_unit_test(issuer_takes_up_to_128_printable_characters_or_nothing),
        cmocka_unit_test(algorithm_accepts_the_sha_names),
        cmocka_unit_test(unknown_setting_is_security_relevant),
        cmocka_unit_test(empty_yes_no_argument_is_security_relevant_not_yes),
        cmocka_unit_test(file_only_settings_are_refused_as_module_arguments),
        cmocka_unit_test(keys_are_case_sensitive_like_other_module_arguments),
        cmocka_unit_test(setting_names_lists_every_key_apply_setting_accepts),
        cmocka_unit_test(valid_file_sets_global_keys),
        cmocka_unit_test(section_and_key_names_are_case_insensitive_in_the_file),
        cmocka_unit_test(quoted_values_are_unquoted),
        cmocka_unit_test(bad_value_in_file_is_reported_and_default_kept),
        cmocka_unit_test(missing_file_is_silent_when_missing_ok),
        cmocka_unit_test(missing_file_is_refused_when_required),
        cmocka_unit_test(symlinked_file_is_refused_even_when_missing_ok),
        cmocka_unit_test(dangling_symlink_is_refused_even_when_missing_ok),
        cmocka_unit_test(group_writable_file_is_refused),
        cmocka_unit_test(world_writable_file_is_refused),
        cmocka_unit_test(file_not_owned_by_root_is_refused),
        cmocka_unit_test(directory_is_refused),
        cmocka_unit_test(relative_path_is_refused),
        cmocka_unit_test(syntax_error_is_refused),
        cmocka_unit_test(oversize_file_is_refused),
        cmocka_unit_test(reset_section_is_left_to_the_reset_service),
        cmocka_unit_test(nullok_appended_after_the_shipped_reset_section_is_refused_with_its_line),
        cmocka_unit_test(global_key_in_reset_section_is_security_relevant),
        cmocka_unit_test(reset_key_in_global_section_is_security_relevant),
        cmocka_unit_test(key_in_unknown_section_is_security_relevant),
        cmocka_unit_test(key_outside_any_section_is_security_relevant),
        cmocka_unit_test(unknown_key_in_file_is_security_relevant),
        cmocka_unit_test(unknown_key_in_reset_section_is_security_relevant),
        cmocka_unit_test(empty_yes_no_value_in_file_is_security_relevant),
        cmocka_unit_test(empty_number_in_file_is_a_bad_value),
        cmocka_unit_test(key_set_twice_in_a_section_is_security_relevant),
        cmocka_unit_test(reset_key_set_twice_is_security_relevant),
        cmocka_unit_test(continued_line_is_one_entry_as_iniparser_reads_it),
        cmocka_unit_test(repeated_section_header_is_not_an_error),
        cmocka_unit_test(problems_never_show_the_value_of_a_misplaced_key),
        cmocka_unit_test(every_key_belongs_to_exactly_one_section),
        cmocka_unit_test(syntax_error_reports_line_numbers_and_never_the_line),
        cmocka_unit_test(overlong_line_is_refused_by_its_number),
        cmocka_unit_test(nul_byte_is_refused),
        cmocka_unit_test(file_replaced_after_its_checks_is_not_what_gets_parsed),
        cmocka_unit_test(shipped_file_as_installed_loads_cleanly),
        cmocka_unit_test(shipped_file_with_every_default_uncommented_loads_cleanly),
        cmocka_unit_test(effective_nullok_combines_the_two_sources_towards_enforcement),
        cmocka_unit_test(rollout_file_next_to_the_config_sets_the_mode_and_nullok),
        cmocka_unit_test(
            rollout_file_that_is_not_one_mode_line_is_a_security_problem_naming_the_line),
    };
    return cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir);
}
