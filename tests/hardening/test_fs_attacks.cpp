// SPDX-License-Identifier: Apache-2.0
// Attacks on the filesystem around the state: symlinks, hard links, FIFOs, sockets and
// directories planted at the state path; wrong owners and modes on the file and on its
// directory; the home layout with a hostile user owning the path. Each is refused by a real
// login (pam_sm_authenticate, with the valid code), with one log line at LOG_ERR that says
// why and "failing closed", and whatever was planted is left as it was.
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "totp/otp.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"

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

constexpr std::int64_t kNow = 1'700'000'000;
constexpr uid_t kAlice = 1001;
constexpr uid_t kMallory = 1002;

std::string g_root;

std::string state_dir() {
    return g_root + "/state";
}
std::string home() {
    return g_root + "/home/alice";
}
std::string system_file() {
    return state_dir() + "/alice";
}
std::string home_file() {
    return home() + "/.totp";
}
std::string outside() {
    return g_root + "/outside";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

totp::SecretBytes secret() {
    totp::SecretBytes bytes(20);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes.data()[i] = static_cast<std::uint8_t>(3 * i + 1);
    return bytes;
}

totp::UserState enrolled_state() {
    totp::UserState state;
    one_token(state).secret = secret();
    return state;
}

void must(bool ok, const char* what) {
    if (!ok) fail_msg("setting up the attack: %s: %s", what, std::strerror(errno));
}

// A valid enrollment for alice in the given layout (and a root-owned one outside).
void enroll(bool home_layout) {
    std::filesystem::remove_all(g_root + "/state");
    std::filesystem::remove_all(g_root + "/home");
    std::filesystem::remove_all(outside());
    must(mkdir(state_dir().c_str(), 0700) == 0, "mkdir state");
    must(mkdir((g_root + "/home").c_str(), 0755) == 0, "mkdir home");
    must(mkdir(home().c_str(), 0700) == 0 && chown(home().c_str(), kAlice, kAlice) == 0, "home");
    must(mkdir(outside().c_str(), 0700) == 0, "mkdir outside");
    auto store = totp::make_file_store(
        {.state_dir = state_dir(), .secret_path = home_layout ? g_root + "/home/%u/.totp" : ""});
    auto record = store->open("alice");
    must(record.ok(), record ? "" : record.error().message.c_str());
    must((*record)->save(enrolled_state()).ok(), "save");
    // A valid root-owned state file elsewhere, as a symlink or hard-link target.
    auto other = totp::make_file_store({.state_dir = outside(), .secret_path = ""})->open("root");
    must(other.ok() && (*other)->save(enrolled_state()).ok(), "outside state");
    must(chmod(outside().c_str(), 0755) == 0, "chmod outside");
}

struct Login {
    int rc;
    std::vector<std::string> log;
    std::vector<int> priorities;
};

Login login(bool home_layout) {
    pam_handle handle;
    handle.user = "alice";
    handle.answers.emplace_back(
        totp::hotp(secret(), totp::time_step(kNow, 30), totp::Algorithm::sha1, 6)->view());
    std::vector<std::string> arguments = {"config=" + g_root + "/pam_totp.conf",
                                          "state_dir=" + state_dir()};
    if (home_layout) arguments.push_back("secret_path=" + g_root + "/home/%u/.totp");
    std::vector<const char*> argv;
    for (const auto& a : arguments) argv.push_back(a.c_str());
    faults::arm({{}, kNow});
    const int rc = pam_sm_authenticate(&handle, 0, static_cast<int>(argv.size()), argv.data());
    faults::disarm();
    return {rc, handle.log, handle.log_priorities};
}

// Enrolls, plants the attack, logs in with the right code: refused, and said why.
void expect_refused(bool home_layout, const std::function<void()>& attack, const char* reason) {
    enroll(home_layout);
    assert_int_equal(login(home_layout).rc, PAM_SUCCESS);  // the enrollment itself is good
    enroll(home_layout);
    attack();
    const std::string planted_target = read_file(outside() + "/root");
    const Login result = login(home_layout);
    bool said = false;
    for (std::size_t i = 0; i < result.log.size(); ++i) {
        said |= result.priorities[i] <= LOG_ERR &&
                result.log[i].find(reason) != std::string::npos &&
                result.log[i].find("failing closed") != std::string::npos;
    }
    if (result.rc != PAM_AUTH_ERR || !said) {
        for (const auto& line : result.log) std::fprintf(stderr, "log: %s\n", line.c_str());
        fail_msg("rc %d; expected PAM_AUTH_ERR and a LOG_ERR line with '%s'", result.rc, reason);
    }
    if (read_file(outside() + "/root") != planted_target)
        fail_msg("the attack's target was written");
}

void replace_with_symlink(const std::string& path, const std::string& target) {
    must(unlink(path.c_str()) == 0 && symlink(target.c_str(), path.c_str()) == 0, "symlink");
}

// --- The default layout: <state_dir>/<user> -----------------------------------------

void symlink_at_the_state_path_is_refused(void**) {
    expect_refused(
        false, [] { replace_with_symlink(system_file(), outside() + "/root"); }, "is a symlink");
}

void dangling_symlink_at_the_state_path_is_refused(void**) {
    expect_refused(
        false, [] { replace_with_symlink(system_file(), "/nonexistent/x"); }, "is a symlink");
}

void hard_link_to_the_state_file_is_refused(void**) {
    expect_refused(
        false,
        [] { must(link(system_file().c_str(), (outside() + "/copy").c_str()) == 0, "link"); },
        "hard links");
}

void fifo_at_the_state_path_is_refused_without_hanging(void**) {
    expect_refused(
        false,
        [] {
            must(unlink(system_file().c_str()) == 0 && mkfifo(system_file().c_str(), 0600) == 0,
                 "fifo");
        },
        "is a FIFO");
}

void socket_at_the_state_path_is_refused(void**) {
    expect_refused(
        false,
        [] {
            must(unlink(system_file().c_str()) == 0, "unlink");
            const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un address{};
            address.sun_family = AF_UNIX;
            std::strncpy(address.sun_path, system_file().c_str(), sizeof address.sun_path - 1);
            must(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "bind");
            close(fd);
        },
        "state file");
}

void directory_at_the_state_path_is_refused(void**) {
    expect_refused(
        false,
        [] {
            must(unlink(system_file().c_str()) == 0 && mkdir(system_file().c_str(), 0700) == 0,
                 "mkdir");
        },
        "is a directory");
}

void group_readable_state_file_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(system_file().c_str(), 0640) == 0, "chmod"); }, "group-readable");
}

void world_readable_state_file_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(system_file().c_str(), 0604) == 0, "chmod"); }, "world-readable");
}

void group_writable_state_file_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(system_file().c_str(), 0620) == 0, "chmod"); }, "group-writable");
}

void state_file_owned_by_a_user_is_refused(void**) {
    expect_refused(
        false, [] { must(chown(system_file().c_str(), kAlice, kAlice) == 0, "chown"); },
        "owned by uid 1001");
}

void group_writable_state_directory_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(state_dir().c_str(), 0770) == 0, "chmod"); }, "group-writable");
}

// Others may search the state directory (0711, see pam_totp(8)), never list it.
void state_directory_others_can_list_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(state_dir().c_str(), 0705) == 0, "chmod"); }, "world-readable");
}

void state_directory_owned_by_a_user_is_refused(void**) {
    expect_refused(
        false, [] { must(chown(state_dir().c_str(), kAlice, kAlice) == 0, "chown"); },
        "owned by uid 1001");
}

void symlinked_state_directory_is_refused(void**) {
    expect_refused(
        false,
        [] {
            must(rename(state_dir().c_str(), (g_root + "/real-state").c_str()) == 0, "rename");
            must(symlink((g_root + "/real-state").c_str(), state_dir().c_str()) == 0, "symlink");
        },
        "is a symlink, refusing");
    std::filesystem::remove_all(g_root + "/real-state");
}

void missing_state_directory_is_refused(void**) {
    expect_refused(
        false, [] { std::filesystem::remove_all(state_dir()); }, "does not exist");
}

void file_at_the_state_directory_path_is_refused(void**) {
    expect_refused(
        false,
        [] {
            std::filesystem::remove_all(state_dir());
            std::ofstream(state_dir()) << "x";
        },
        "is not a directory");
}

// --- The home layout: a hostile user owns the path ------------------------------------

void home_symlink_to_a_root_owned_file_is_refused(void**) {
    expect_refused(
        true, [] { replace_with_symlink(home_file(), outside() + "/root"); }, "is a symlink");
}

void home_state_file_owned_by_another_user_is_refused(void**) {
    expect_refused(
        true, [] { must(chown(home_file().c_str(), kMallory, kMallory) == 0, "chown"); },
        "owned by uid 1002");
}

void home_state_file_owned_by_root_is_refused(void**) {
    expect_refused(
        true, [] { must(chown(home_file().c_str(), 0, 0) == 0, "chown"); }, "owned by uid 0");
}

void home_state_file_with_a_second_link_is_refused(void**) {
    expect_refused(
        true, [] { must(link(home_file().c_str(), (home() + "/copy").c_str()) == 0, "link"); },
        "hard links");
}

void home_fifo_is_refused_without_hanging(void**) {
    expect_refused(
        true,
        [] {
            must(unlink(home_file().c_str()) == 0 && mkfifo(home_file().c_str(), 0600) == 0,
                 "fifo");
            must(chown(home_file().c_str(), kAlice, kAlice) == 0, "chown");
        },
        "is a FIFO");
}

void home_directory_owned_by_another_user_is_refused(void**) {
    expect_refused(
        true, [] { must(chown(home().c_str(), kMallory, kMallory) == 0, "chown"); },
        "owned by uid 1002");
}

void home_directory_others_can_write_is_refused(void**) {
    expect_refused(
        true, [] { must(chmod(home().c_str(), 0777) == 0, "chmod"); }, "world-writable");
}

int setup(void**) {
    std::string root = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                       "/pam_totp_attacks.XXXXXX";
    assert_non_null(mkdtemp(root.data()));
    g_root = root;
    assert_int_equal(chmod(root.c_str(), 0755), 0);
    std::ofstream(g_root + "/pam_totp.conf") << "[global]\n";
    faults::set_accounts({{"alice", kAlice, kAlice, home(), {}}}, {});
    return 0;
}

int teardown(void**) {
    std::filesystem::remove_all(g_root);
    return 0;
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (root-owned state, files owned by other users)");
    const CMUnitTest tests[] = {
        cmocka_unit_test(symlink_at_the_state_path_is_refused),
        cmocka_unit_test(dangling_symlink_at_the_state_path_is_refused),
        cmocka_unit_test(hard_link_to_the_state_file_is_refused),
        cmocka_unit_test(fifo_at_the_state_path_is_refused_without_hanging),
        cmocka_unit_test(socket_at_the_state_path_is_refused),
        cmocka_unit_test(directory_at_the_state_path_is_refused),
        cmocka_unit_test(group_readable_state_file_is_refused),
        cmocka_unit_test(world_readable_state_file_is_refused),
        cmocka_unit_test(group_writable_state_file_is_refused),
        cmocka_unit_test(state_file_owned_by_a_user_is_refused),
        cmocka_unit_test(group_writable_state_directory_is_refused),
        cmocka_unit_test(state_directory_others_can_list_is_refused),
        cmocka_unit_test(state_directory_owned_by_a_user_is_refused),
        cmocka_unit_test(symlinked_state_directory_is_refused),
        cmocka_unit_test(missing_state_directory_is_refused),
        cmocka_unit_test(file_at_the_state_directory_path_is_refused),
        cmocka_unit_test(home_symlink_to_a_root_owned_file_is_refused),
        cmocka_unit_test(home_state_file_owned_by_another_user_is_refused),
        cmocka_unit_test(home_state_file_owned_by_root_is_refused),
        cmocka_unit_test(home_state_file_with_a_second_link_is_refused),
        cmocka_unit_test(home_fifo_is_refused_without_hanging),
        cmocka_unit_test(home_directory_owned_by_another_user_is_refused),
        cmocka_unit_test(home_directory_others_can_write_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
