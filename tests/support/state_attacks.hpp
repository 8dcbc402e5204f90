// SPDX-License-Identifier: Apache-2.0
// Attacks on the filesystem around alice's state (alice.hpp): symlinks, hard links, FIFOs,
// sockets and directories planted at the state path; wrong owners and modes on the file and
// on its directory; the home layout with a hostile user owning the path. Each is planted
// after a valid enrollment; an attempt with the valid code must then be refused with one
// line at LOG_ERR or worse that says why and "failing closed", and whatever was planted is
// left as it was. The module's and totp-verify's tests run every attack here, one CMocka
// test each.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "alice.hpp"
#include "totp/user_state.hpp"

struct CMUnitTest;

namespace hardening {

struct Attack {
    const char* name;  // its CMocka test's name: the behaviour it proves
    bool home_layout;
    void (*plant)();
    const char* reason;  // what the refusal's log line says
};

// What the attacks are played against.
struct Target {
    // A valid enrollment in the layout (enroll_anew); returns the state it saved.
    std::function<totp::UserState(bool home_layout)> enroll;
    // An attempt with the code alice's authenticator shows at kNow.
    std::function<Attempt(bool home_layout, const totp::UserState& state)> attempt;
    int refused;                         // the result of a refusal
    std::vector<std::string> also_said;  // more the refusal's line must say
};

// Enrolls and checks that the attempt is accepted; enrolls again, plants the attack, and
// checks that the attempt is refused as the header says.
void expect_refused(const Attack& attack, const Target& target);

// Runs `tests` and then one test per attack (`attack_test`, given the Attack as its state)
// as one CMocka group.
int run_with_attack_tests(std::vector<CMUnitTest> tests, void (*attack_test)(void** state),
                          int (*group_setup)(void** state), int (*group_teardown)(void** state));

}  // namespace hardening
