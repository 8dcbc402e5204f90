// SPDX-License-Identifier: Apache-2.0
// A private PAM world for module tests: pam_wrapper service files, nss_wrapper users and
// groups, a pam_matrix password database, a root-owned state directory, a settable clock
// and a captured syslog (tests/support/test_preload.c). Nothing on the host is touched.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "totp/otp.hpp"
#include "totp/user_state.hpp"

namespace fixture {

// Every user has the password "<name>-pw". carol is in group totp-users, dave in no2fa.
inline const char* const kUsers[] = {"alice", "bob", "carol", "dave", "erin"};
// Other names of alice's account: passwd lines after hers with her uid (as an alias line,
// a case-insensitive directory or user@domain would give), each with its own password.
inline const char* const kAliceAliases[] = {"Alice", "alice@example.com", "alice-alias"};

struct Paths {
    std::string root;
    std::string state_dir;
    std::string config;  // an empty, root-owned config file every service names with config=
    std::string syslog;
};
const Paths& paths();

// Setting up the sandbox: a false `condition` ends the test program with `what` and errno.
void must(bool condition, const char* what);

// CMocka group setup/teardown: build and remove the sandbox.
int setup_sandbox(void** state);
int teardown_sandbox(void** state);
// CMocka per-test setup: empty state dir, empty log, clock at kEpoch.
int reset(void** state);

inline constexpr std::int64_t kEpoch = 1'700'000'000;  // a multiple of 30 and 60

// Writes service `name`: pam_matrix (password) then pam_totp with `module_args`
// (state_dir= and config= are prepended).
void write_service(const std::string& name, const std::string& module_args);
void write_raw_service(const std::string& name, const std::string& text);
// Writes service `name` as forward_pass is documented: a pam_totp line that splits the
// answer, a password module with use_first_pass, the pam_totp line that checks the code.
void write_forward_pass_service(const std::string& name);

void set_now(std::int64_t unix_time);

// pam_wrapper sets itself up (and copies the service files) at the first pam_start of a
// process, and again in every forked child.
void start_pam_wrapper();
// Removes this process's pam_wrapper directory (for children that leave with _exit).
void remove_pam_wrapper_dir();

// Forks `processes` children that each set up pam_wrapper (one at a time: two doing so at
// once can clash), then run `attempt(index)` together, released by one signal. Children
// must not spawn processes. Returns how many attempts returned true; a child that dies
// or cannot set up aborts the test.
int race(int processes, const std::function<bool(int index)>& attempt);

// A new enrollment (created at kEpoch) with a fresh random secret (or `secret_base32`) and
// the given recovery codes.
totp::UserState new_state(totp::OtpParams params = {},
                          const std::vector<std::string>& recovery_codes = {},
                          const std::string& secret_base32 = "");
// Enrolls `user` in the file store with new_state(...); returns the raw secret.
totp::SecretBytes enroll(const std::string& user, totp::OtpParams params = {},
                         const std::vector<std::string>& recovery_codes = {},
                         const std::string& secret_base32 = "");
totp::UserState read_state(const std::string& user);
void write_state(const std::string& user, const totp::UserState& state);
std::string state_file(const std::string& user);

// The code oathtool (an independent implementation) prints when run with `arguments`
// (e.g. "--hotp --base32 --counter=3 SECRET"), without the sandbox's preloads; a failure
// to run it aborts the test.
std::string oathtool(const std::string& arguments);

std::string code_at(const totp::SecretBytes& secret, const totp::OtpParams& params,
                    std::int64_t unix_time);

// A code of params.digits digits that `secret` gives at no step within 10 steps of
// `unix_time`: wrong for every window a test uses, unlike a fixed "000000", which a random
// secret gives now and then.
std::string wrong_code(const totp::SecretBytes& secret, std::int64_t unix_time,
                       const totp::OtpParams& params = {});

// Every PAM_TEXT_INFO ("info: <text>") and PAM_ERROR_MSG ("error: <text>"), in order.
using Messages = std::vector<std::string>;

struct LoginResult {
    int rc = -1;
    std::vector<std::string> prompts;  // every prompt shown, in order
    Messages messages;
    std::string authtok;  // PAM_AUTHTOK after authentication, if pam_get_items.so exported it
};

// Runs pam_start/pam_authenticate/pam_end through libpamtest with a conversation that
// answers the prompts in order (the password first for the standard stack).
LoginResult login(const std::string& service, const std::string& user,
                  const std::vector<std::string>& answers);
// Several pam_authenticate() calls on one handle, as sshd, sudo and login retry: attempt i
// runs as users[i] (PAM_USER set before it); prompts are answered from `answers` in order.
// Returns each attempt's result.
std::vector<int> attempts_on_one_handle(const std::string& service,
                                        const std::vector<std::string>& users,
                                        const std::vector<std::string>& answers);
// The same through plain libpam, with PAM_RHOST set and pam_authenticate's `flags`.
LoginResult login_from(const std::string& service, const std::string& user,
                       const std::vector<std::string>& answers, const std::string& rhost,
                       int flags = 0);

std::string password_of(const std::string& user);
std::string read_log();
bool log_contains(const std::string& text);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, unsigned mode = 0600);

}  // namespace fixture
