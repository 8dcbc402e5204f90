// SPDX-License-Identifier: Apache-2.0
// For a test that cannot run where it is (no root, no private mount namespace): a skip
// ctest shows as skipped, never as passed, and one CI forbids.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace test_support {

// ctest's SKIP_RETURN_CODE for every test that registers one.
inline constexpr int kSkipExitCode = 77;

// Ends the test: exit 77 with the reason, or exit 1 when SANDBOX_REQUIRED is set (as
// scripts/test.sh sets it), where a test that did not run is a failure.
[[noreturn]] inline void cannot_run(const std::string& why) {
    if (std::getenv("SANDBOX_REQUIRED") != nullptr) {
        std::printf("FAIL: cannot run this test: %s (SANDBOX_REQUIRED is set)\n", why.c_str());
        std::fflush(stdout);
        std::exit(1);
    }
    std::printf("SKIP: %s\n", why.c_str());
    std::fflush(stdout);
    std::exit(kSkipExitCode);
}

}  // namespace test_support
