// SPDX-License-Identifier: Apache-2.0
// Our codes agree with oathtool (OATH Toolkit) for every algorithm, digit count and a
// range of periods, times and key lengths. oathtool is a hard requirement: CI installs it.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "totp/base32.hpp"
#include "totp/otp.hpp"
#include "totp/secret.hpp"

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

using totp::Algorithm;
using totp::OtpParams;
using totp::SecretBytes;
using totp::TotpCheck;

namespace {

// stdout of a shell command, or nullopt if it did not exit with status 0.
std::optional<std::string> run(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string output;
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    const int status = pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    return output;
}

SecretBytes random_key(std::size_t size) {
    SecretBytes key(size);
    assert_true(totp::random_bytes(key.data(), key.size()));
    return key;
}

std::string base32(const SecretBytes& key) {
    return std::string(totp::base32_encode(key.span()).view());
}

std::string oathtool_totp(const SecretBytes& key, const OtpParams& params, std::int64_t time) {
    const std::string command =
        "oathtool --totp=" + std::string(totp::algorithm_name(params.algorithm)) + " -d " +
        std::to_string(params.digits) + " -s " + std::to_string(params.period) + "s -N @" +
        std::to_string(time) + " --base32 " + base32(key) + " 2>&1";
    const auto output = run(command);
    if (!output) fail_msg("oathtool failed: %s", command.c_str());
    return *output;
}

}  // namespace

static void oathtool_is_installed(void**) {
    if (!run("oathtool --version >/dev/null 2>&1")) {
        fail_msg("oathtool is required for this test (Debian package: oathtool)");
    }
}

static void totp_agrees_with_oathtool_for_every_algorithm_digits_and_period(void**) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const std::int64_t times[] = {0,          59,         1111111079,  1111111080, 1111111109,
                                  1234567890, 2000000000, 20000000000, now};
    const std::size_t key_sizes[] = {10, 20, 32, 64, 17};
    std::size_t compared = 0;
    for (Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
        for (int digits : {6, 7, 8}) {
            for (int period : {30, 60}) {
                const OtpParams params{algorithm, digits, period};
                for (std::int64_t time : times) {
                    const SecretBytes key = random_key(key_sizes[compared % 5]);
                    const std::string theirs = oathtool_totp(key, params, time);
                    assert_int_equal(theirs.size(), digits);

                    const std::uint64_t step = totp::time_step(time, period);
                    auto ours = totp::hotp(key, step, algorithm, digits);
                    assert_true(ours.ok());
                    assert_string_equal(ours->c_str(), theirs.c_str());

                    const TotpCheck check =
                        totp::check_totp(key, params, theirs, time, 0, std::nullopt);
                    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
                    assert_int_equal(check.step, step);
                    ++compared;
                }
            }
        }
    }
    assert_int_equal(compared, 3 * 3 * 2 * 9);
}

static void hotp_agrees_with_oathtool_for_several_counters(void**) {
    for (int digits : {6, 7, 8}) {
        const SecretBytes key = random_key(20);
        for (std::uint64_t counter : {0ULL, 1ULL, 9ULL, 1000ULL, 4294967296ULL}) {
            const std::string command = "oathtool --hotp -d " + std::to_string(digits) + " -c " +
                                        std::to_string(counter) + " --base32 " + base32(key) +
                                        " 2>&1";
            const auto theirs = run(command);
            if (!theirs) fail_msg("oathtool failed: %s", command.c_str());
            auto ours = totp::hotp(key, counter, Algorithm::sha1, digits);
            assert_true(ours.ok());
            assert_string_equal(ours->c_str(), theirs->c_str());
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oathtool_is_installed),
        cmocka_unit_test(totp_agrees_with_oathtool_for_every_algorithm_digits_and_period),
        cmocka_unit_test(hotp_agrees_with_oathtool_for_several_counters),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
