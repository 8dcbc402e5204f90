// SPDX-License-Identifier: Apache-2.0
// The policy pre-check asked before the code: libpwquality with pwquality.conf and the
// options of the service's pam_pwquality line, so it refuses what pam_chauthtok will.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cmocka.hpp"
#include "password_policy.hpp"

namespace {

struct PolicyDir {
    std::string dir;
    std::string service;
    std::string conf;

    // `line` is the service's password line; the conf turns the dictionary off so the test
    // does not depend on the installed word lists.
    explicit PolicyDir(const std::string& line) {
        char pattern[] = "/tmp/totp-reset-policy-XXXXXX";
        assert_non_null(::mkdtemp(pattern));
        dir = pattern;
        service = dir + "/totp-reset";
        conf = dir + "/pwquality.conf";
        std::ofstream(service) << "# a comment: password requisite pam_pwquality.so minlen=99\n"
                               << "account required pam_unix.so\n"
                               << line << "\npassword required pam_unix.so use_authtok\n";
        std::ofstream(conf) << "minlen = 8\ndictcheck = 0\n";
    }
    ~PolicyDir() { std::filesystem::remove_all(dir); }

    resetd::PolicyFiles files() const { return {service.c_str(), conf.c_str()}; }
};

bool refused(const char* user, const char* password, const PolicyDir& policy) {
    return resetd::policy_refusal(user, password, policy.files()).has_value();
}

}  // namespace

static void a_short_password_is_refused_with_a_bad_password_message(void**) {
    const PolicyDir policy("password requisite pam_pwquality.so enforce_for_root retry=1");
    const auto refusal = resetd::policy_refusal("alice", "short", policy.files());
    assert_true(refusal.has_value());
    assert_true(refusal->starts_with("BAD PASSWORD: "));
    assert_false(refused("alice", "Marmalade-Orbit-73-Quiver", policy));
}

static void the_pam_lines_options_apply_too(void**) {
    const PolicyDir policy(
        "password [success=ok default=die] pam_pwquality.so retry=1 minlen=30 enforce_for_root");
    assert_true(refused("alice", "Marmalade-Orbit-73-Quiver", policy));
    assert_false(refused("alice", "Marmalade-Orbit-73-Quiver-Lantern-Sky", policy));
}

static void the_user_name_in_the_password_is_refused(void**) {
    const PolicyDir policy("password requisite pam_pwquality.so");
    assert_true(refused("marmalade", "xMarmalade-Orbit-73", policy));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_short_password_is_refused_with_a_bad_password_message),
        cmocka_unit_test(the_pam_lines_options_apply_too),
        cmocka_unit_test(the_user_name_in_the_password_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
