// SPDX-License-Identifier: Apache-2.0
// Interop: codes computed by oathtool (an independent implementation) log in.
#include <cstdio>
#include <string>

#include "fixture.hpp"
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

std::string oathtool_code(const std::string& base32, const totp::OtpParams& params,
                          std::int64_t unix_time) {
    return fixture::oathtool("--totp=" + std::string(totp::algorithm_name(params.algorithm)) +
                             " --digits=" + std::to_string(params.digits) +
                             " --time-step-size=" + std::to_string(params.period) + "s --now=@" +
                             std::to_string(unix_time) + " --base32 " + base32);
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    return 0;
}

void oathtool_codes_log_in_for_every_algorithm_digits_and_period(void**) {
    const totp::Algorithm algorithms[] = {totp::Algorithm::sha1, totp::Algorithm::sha256,
                                          totp::Algorithm::sha512};
    const int digit_counts[] = {6, 8};
    const int periods[] = {30, 60};
    std::int64_t now = fixture::kEpoch;
    for (auto algorithm : algorithms) {
        for (int digits : digit_counts) {
            for (int period : periods) {
                const totp::OtpParams params{algorithm, digits, period};
                const auto secret = fixture::enroll("alice", params);
                const std::string base32(totp::base32_encode(secret.span()).view());
                now += 3600;
                fixture::set_now(now);
                const std::string code = oathtool_code(base32, params, now);
                assert_int_equal(code.size(), static_cast<std::size_t>(digits));
                const auto result =
                    fixture::login("login", "alice", {fixture::password_of("alice"), code});
                if (result.rc != 0) {
                    fail_msg("%s/%d/%d: oathtool code refused (rc %d)",
                             std::string(totp::algorithm_name(algorithm)).c_str(), digits, period,
                             result.rc);
                }
                // And the code of the step after next, as oathtool computes it, is not.
                const std::string later = oathtool_code(base32, params, now + 2 * period);
                assert_int_not_equal(
                    fixture::login("login", "alice", {fixture::password_of("alice"), later}).rc, 0);
            }
        }
    }
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(oathtool_codes_log_in_for_every_algorithm_digits_and_period,
                               fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
