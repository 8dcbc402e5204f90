// SPDX-License-Identifier: Apache-2.0
#include "alice.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "one_token.hpp"
#include "scratch_dir.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace hardening {

std::string state_dir() {
    return test_support::scratch_dir() + "/state";
}

std::string home() {
    return test_support::scratch_dir() + "/home/alice";
}

std::string outside() {
    return test_support::scratch_dir() + "/outside";
}

std::string secret_path() {
    return test_support::scratch_dir() + "/home/%u/.totp";
}

std::string state_path(bool home_layout) {
    return home_layout ? home() + "/.totp" : state_dir() + "/alice";
}

std::unique_ptr<totp::Store> file_store(bool home_layout) {
    return totp::make_file_store(
        {.state_dir = state_dir(), .secret_path = home_layout ? secret_path() : ""});
}

void must(bool ok, const char* what) {
    if (!ok) fail_msg("setting up: %s: %s", what, std::strerror(errno));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

totp::UserState enrolled_state(std::uint32_t failures) {
    totp::UserState state;
    one_token(state).secret = totp::SecretBytes(20);
    for (std::size_t i = 0; i < 20; ++i)
        one_token(state).secret.data()[i] = static_cast<std::uint8_t>(i * 7 + 1);
    one_token(state).last_step = totp::time_step(kNow, 30) - 5;
    state.failures = failures;
    auto hash = totp::hash_recovery_code(totp::normalize_recovery_code(kRecovery)->view());
    must(hash.ok(), "recovery hash");
    state.recovery.push_back(*hash);
    return state;
}

std::string current_code(const totp::UserState& state) {
    auto code =
        totp::hotp(one_token(state).secret, totp::time_step(kNow, 30), totp::Algorithm::sha1, 6);
    must(code.ok(), "code");
    return std::string(code->view());
}

totp::UserState enroll_anew(bool home_layout, mode_t state_dir_mode, std::uint32_t failures) {
    const std::string& root = test_support::scratch_dir();
    for (const char* top : {"/state", "/home", "/outside"}) std::filesystem::remove_all(root + top);
    must(mkdir(state_dir().c_str(), state_dir_mode) == 0, "mkdir state");
    must(mkdir((root + "/home").c_str(), 0755) == 0, "mkdir home");
    must(mkdir(home().c_str(), 0700) == 0 && chown(home().c_str(), kAlice, kAlice) == 0, "home");
    must(mkdir(outside().c_str(), 0700) == 0, "mkdir outside");
    totp::UserState state = enrolled_state(failures);
    auto record = file_store(home_layout)->open("alice");
    must(record.ok(), record ? "" : record.error().message.c_str());
    must((*record)->save(state).ok(), "save");
    auto other = totp::make_file_store({.state_dir = outside(), .secret_path = ""})->open("root");
    must(other.ok() && (*other)->save(state).ok(), "outside state");
    must(chmod(outside().c_str(), 0755) == 0, "chmod outside");
    return state;
}

void print_log(const Attempt& attempt) {
    for (const std::string& line : attempt.log) std::fprintf(stderr, "log: %s\n", line.c_str());
}

}  // namespace hardening
