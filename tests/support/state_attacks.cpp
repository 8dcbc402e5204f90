// SPDX-License-Identifier: Apache-2.0
#include "state_attacks.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

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
namespace {

constexpr uid_t kMallory = 1002;

void replace_with_symlink(const std::string& path, const std::string& target) {
    must(unlink(path.c_str()) == 0 && symlink(target.c_str(), path.c_str()) == 0, "symlink");
}

void plant_socket(const std::string& path) {
    must(unlink(path.c_str()) == 0, "unlink");
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    must(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "bind");
    close(fd);
}

const Attack kAttacks[] = {
    // --- The default layout: <state_dir>/<user> ---------------------------------------
    {"symlink_at_the_state_path_is_refused", false,
     [] { replace_with_symlink(state_path(false), outside() + "/root"); }, "is a symlink"},
    {"dangling_symlink_at_the_state_path_is_refused", false,
     [] { replace_with_symlink(state_path(false), "/nonexistent/x"); }, "is a symlink"},
    {"hard_link_to_the_state_file_is_refused", false,
     [] { must(link(state_path(false).c_str(), (outside() + "/copy").c_str()) == 0, "link"); },
     "hard links"},
    {"fifo_at_the_state_path_is_refused_without_hanging", false,
     [] {
         must(
             unlink(state_path(false).c_str()) == 0 && mkfifo(state_path(false).c_str(), 0600) == 0,
             "fifo");
     },
     "is a FIFO"},
    {"socket_at_the_state_path_is_refused", false, [] { plant_socket(state_path(false)); },
     "state file"},
    {"directory_at_the_state_path_is_refused", false,
     [] {
         must(unlink(state_path(false).c_str()) == 0 && mkdir(state_path(false).c_str(), 0700) == 0,
              "mkdir");
     },
     "is a directory"},
    {"group_readable_state_file_is_refused", false,
     [] { must(chmod(state_path(false).c_str(), 0640) == 0, "chmod"); }, "group-readable"},
    {"world_readable_state_file_is_refused", false,
     [] { must(chmod(state_path(false).c_str(), 0604) == 0, "chmod"); }, "world-readable"},
    {"group_writable_state_file_is_refused", false,
     [] { must(chmod(state_path(false).c_str(), 0620) == 0, "chmod"); }, "group-writable"},
    {"state_file_owned_by_a_user_is_refused", false,
     [] { must(chown(state_path(false).c_str(), kAlice, kAlice) == 0, "chown"); },
     "owned by uid 1001"},
    {"group_writable_state_directory_is_refused", false,
     [] { must(chmod(state_dir().c_str(), 0770) == 0, "chmod"); }, "group-writable"},
    // Others may search the state directory (0711, see pam_totp(8)), never list it.
    {"state_directory_others_can_list_is_refused", false,
     [] { must(chmod(state_dir().c_str(), 0705) == 0, "chmod"); }, "world-readable"},
    {"state_directory_owned_by_a_user_is_refused", false,
     [] { must(chown(state_dir().c_str(), kAlice, kAlice) == 0, "chown"); }, "owned by uid 1001"},
    // The real directory goes into outside/, which the next enrollment empties.
    {"symlinked_state_directory_is_refused", false,
     [] {
         const std::string real = outside() + "/real-state";
         must(rename(state_dir().c_str(), real.c_str()) == 0, "rename");
         must(symlink(real.c_str(), state_dir().c_str()) == 0, "symlink");
     },
     "is a symlink, refusing"},
    {"missing_state_directory_is_refused", false, [] { std::filesystem::remove_all(state_dir()); },
     "does not exist"},
    {"file_at_the_state_directory_path_is_refused", false,
     [] {
         std::filesystem::remove_all(state_dir());
         std::ofstream(state_dir()) << "x";
     },
     "is not a directory"},
    // --- The home layout: a hostile user owns the path --------------------------------
    {"home_symlink_to_a_root_owned_file_is_refused", true,
     [] { replace_with_symlink(state_path(true), outside() + "/root"); }, "is a symlink"},
    {"home_state_file_owned_by_another_user_is_refused", true,
     [] { must(chown(state_path(true).c_str(), kMallory, kMallory) == 0, "chown"); },
     "owned by uid 1002"},
    {"home_state_file_owned_by_root_is_refused", true,
     [] { must(chown(state_path(true).c_str(), 0, 0) == 0, "chown"); }, "owned by uid 0"},
    {"home_state_file_with_a_second_link_is_refused", true,
     [] { must(link(state_path(true).c_str(), (home() + "/copy").c_str()) == 0, "link"); },
     "hard links"},
    {"home_fifo_is_refused_without_hanging", true,
     [] {
         must(unlink(state_path(true).c_str()) == 0 && mkfifo(state_path(true).c_str(), 0600) == 0,
              "fifo");
         must(chown(state_path(true).c_str(), kAlice, kAlice) == 0, "chown");
     },
     "is a FIFO"},
    {"home_directory_owned_by_another_user_is_refused", true,
     [] { must(chown(home().c_str(), kMallory, kMallory) == 0, "chown"); }, "owned by uid 1002"},
    {"home_directory_others_can_write_is_refused", true,
     [] { must(chmod(home().c_str(), 0777) == 0, "chmod"); }, "world-writable"},
};

bool says(const std::string& line, const std::string& text) {
    return line.find(text) != std::string::npos;
}

}  // namespace

void expect_refused(const Attack& attack, const Target& target) {
    const Attempt valid = target.attempt(attack.home_layout, target.enroll(attack.home_layout));
    if (!valid.accepted) {
        print_log(valid);
        fail_msg("the enrollment itself is refused: result %d", valid.result);
    }
    const totp::UserState state = target.enroll(attack.home_layout);
    attack.plant();
    const std::string planted_target = read_file(outside() + "/root");
    const Attempt outcome = target.attempt(attack.home_layout, state);
    bool said = false;
    for (std::size_t i = 0; i < outcome.log.size(); ++i) {
        bool line_says = outcome.priorities[i] <= LOG_ERR && says(outcome.log[i], attack.reason) &&
                         says(outcome.log[i], "failing closed");
        for (const std::string& more : target.also_said) line_says &= says(outcome.log[i], more);
        said |= line_says;
    }
    if (outcome.result != target.refused || !said) {
        print_log(outcome);
        std::string needles = std::string("'") + attack.reason + "', 'failing closed'";
        for (const std::string& more : target.also_said) needles += ", '" + more + "'";
        fail_msg("result %d; expected %d and a LOG_ERR line with %s", outcome.result,
                 target.refused, needles.c_str());
    }
    if (read_file(outside() + "/root") != planted_target)
        fail_msg("the attack's target was written");
}

int run_with_attack_tests(std::vector<CMUnitTest> tests, void (*attack_test)(void** state),
                          int (*group_setup)(void** state), int (*group_teardown)(void** state)) {
    for (const Attack& attack : kAttacks)
        tests.push_back({attack.name, attack_test, nullptr, nullptr, const_cast<Attack*>(&attack)});
    // cmocka_run_group_tests() itself, for a list whose length is known only at run time.
    return _cmocka_run_group_tests("tests", tests.data(), tests.size(), group_setup,
                                   group_teardown);
}

}  // namespace hardening
