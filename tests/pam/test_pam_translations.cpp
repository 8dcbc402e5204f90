// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper): the prompts and messages come in the
// language of the locale the application set (the module never sets one), from the
// project's catalogs in the install's locale directory. This process's private mount
// namespace (with_private_tmp.sh) shows the build tree's catalogs there; the host is not
// touched. German runs as a user's session would (LANG=de_DE.UTF-8, the locale compiled
// by localedef into a private LOCPATH); French and Spanish through LANGUAGE over C.UTF-8.

#include <locale.h>
#include <security/pam_appl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "fixture.hpp"

// cmocka needs these first, and its macros must come after the C++ headers.
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

using fixture::code_at;
using fixture::enroll;
using fixture::kEpoch;
using fixture::login;
using fixture::Messages;
using fixture::must;
using fixture::password_of;

namespace {

// Shows the build's catalogs at TOTP_LOCALE_DIR in this mount namespace. A locale directory
// that does not exist yet (/usr/local/share/locale before any install) gets a tmpfs over
// its parent first.
void show_build_catalogs() {
    const std::filesystem::path target = TOTP_LOCALE_DIR;
    if (!std::filesystem::exists(target)) {
        const std::filesystem::path parent = target.parent_path();
        must(std::filesystem::is_directory(parent) && parent.has_parent_path() &&
                 parent.parent_path() != "/" && parent != "/usr",
             "no place to show the catalogs at TOTP_LOCALE_DIR");
        must(mount("test-locale", parent.c_str(), "tmpfs", 0, "mode=0755") == 0, "mount tmpfs");
        std::filesystem::create_directories(target);
    }
    must(mount(TOTP_BUILD_LOCALE_DIR, target.c_str(), nullptr, MS_BIND, nullptr) == 0,
         "bind mount the build's catalogs");
}

// de_DE.UTF-8 compiled from the host's locale sources into the sandbox (the host has
// only the locales its administrator generated).
std::string compile_german_locale() {
    std::string dir = fixture::paths().root + "/locales";
    std::filesystem::create_directories(dir);
    const pid_t child = fork();
    must(child >= 0, "fork");
    if (child == 0) {
        unsetenv("LD_PRELOAD");  // the wrappers and a sanitizer runtime are this test's own
        execlp("localedef", "localedef", "--quiet", "-i", "de_DE", "-f", "UTF-8",
               (dir + "/de_DE.UTF-8").c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    must(waitpid(child, &status, 0) == child, "waitpid");
    must(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "localedef -i de_DE -f UTF-8 (Debian package locales)");
    return dir;
}

std::string g_locales;

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    fixture::write_service("prompted", "[prompt=Code from your phone: ]");
    fixture::write_forward_pass_service("forward");
    show_build_catalogs();
    g_locales = compile_german_locale();
    return 0;
}

// As an application does at its start: the environment's locale, set by the program.
void use_locale(const char* lang, const char* language) {
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    setenv("LOCPATH", g_locales.c_str(), 1);
    setenv("LANG", lang, 1);
    if (language != nullptr) setenv("LANGUAGE", language, 1);
    must(setlocale(LC_ALL, "") != nullptr, "setlocale");
}

int reset_to_english(void** state) {
    use_locale("C", nullptr);
    return fixture::reset(state);
}

fixture::LoginResult login_with_code(const std::string& service = "login") {
    const auto secret = enroll("alice");
    return login(service, "alice", {password_of("alice"), code_at(secret, {}, kEpoch)});
}

void german_session_gets_the_german_prompt(void**) {
    use_locale("de_DE.UTF-8", nullptr);
    const std::string locale_before = setlocale(LC_ALL, nullptr);
    const auto result = login_with_code();
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.prompts.back().c_str(), "Bestätigungscode: ");
    // The module left the application's locale as it was.
    assert_string_equal(setlocale(LC_ALL, nullptr), locale_before.c_str());
}

void french_and_spanish_through_language(void**) {
    use_locale("C.UTF-8", "fr");
    assert_string_equal(login_with_code().prompts.back().c_str(), "Code de vérification : ");
    use_locale("C.UTF-8", "es");
    assert_string_equal(login_with_code().prompts.back().c_str(), "Código de verificación: ");
}

void english_without_a_locale(void**) {
    assert_string_equal(login_with_code().prompts.back().c_str(), "Verification code: ");
}

void language_without_a_catalog_falls_back_to_english(void**) {
    use_locale("C.UTF-8", "sv");
    assert_string_equal(login_with_code().prompts.back().c_str(), "Verification code: ");
}

void configured_prompt_is_shown_as_written(void**) {
    use_locale("de_DE.UTF-8", nullptr);
    assert_string_equal(login_with_code("prompted").prompts.back().c_str(),
                        "Code from your phone: ");
}

void forward_pass_prompt_is_translated(void**) {
    use_locale("de_DE.UTF-8", nullptr);
    const auto secret = enroll("alice");
    const auto result =
        login("forward", "alice", {password_of("alice") + code_at(secret, {}, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.prompts.front().c_str(), "Passwort und Bestätigungscode: ");
}

void recovery_code_hints_are_translated_with_plurals(void**) {
    use_locale("de_DE.UTF-8", nullptr);
    enroll("alice", {}, {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23", "2345-6789-ABCD"});
    assert_true(login("login", "alice", {password_of("alice"), "ABCD-EFGH-JKMN"}).messages ==
                Messages{"info: Noch 2 Wiederherstellungscodes übrig."});
    assert_true(login("login", "alice", {password_of("alice"), "PQRS-TVWX-YZ23"}).messages ==
                Messages{"info: Noch 1 Wiederherstellungscode übrig."});
    use_locale("C.UTF-8", "fr");
    assert_true(login("login", "alice", {password_of("alice"), "2345-6789-ABCD"}).messages ==
                Messages{"error: C'était votre dernier code de secours. Lancez « totp-enroll "
                         "recovery-codes » pour en créer de nouveaux."});
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, reset_to_english)
        CASE(german_session_gets_the_german_prompt),
        CASE(french_and_spanish_through_language),
        CASE(english_without_a_locale),
        CASE(language_without_a_catalog_falls_back_to_english),
        CASE(configured_prompt_is_shown_as_written),
        CASE(forward_pass_prompt_is_translated),
        CASE(recovery_code_hints_are_translated_with_plurals),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
