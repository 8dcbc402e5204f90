// SPDX-License-Identifier: Apache-2.0
// A full disk and a read-only store, for real: the store directory is a tiny tmpfs (or a
// read-only bind mount) in a private mount namespace this test creates for itself, so the
// host's mounts are never touched. Logins fail closed with a clear log line or, where no
// new space is needed, keep working; enrollment (the store API and the totp-enroll tool)
// and reset tokens report the error and leave nothing behind; nothing is ever truncated.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "totp/otp.hpp"
#include "totp/reset_token.hpp"
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

std::string g_root;

std::string state_dir() {
    return g_root + "/state";
}
std::string config_path() {
    return g_root + "/pam_totp.conf";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::set<std::string> entries(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        names.insert(entry.path().filename().string());
    return names;
}

totp::SecretBytes secret() {
    totp::SecretBytes bytes(20);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes.data()[i] = static_cast<std::uint8_t>(i + 1);
    return bytes;
}

totp::Status enroll(const std::string& user) {
    totp::UserState state;
    one_token(state).secret = secret();
    auto record = totp::make_file_store({.state_dir = state_dir(), .secret_path = ""})->open(user);
    if (!record) return record.error();
    return (*record)->save(state);
}

// A tmpfs of `size` bytes and at most `inodes` files at the state directory.
void mount_small_tmpfs(const char* size, int inodes) {
    const std::string options =
        std::string("size=") + size + ",nr_inodes=" + std::to_string(inodes) + ",mode=0700";
    assert_int_equal(mount("pam_totp_full", state_dir().c_str(), "tmpfs", 0, options.c_str()), 0);
}

// Writes until the filesystem refuses, leaving `spare` bytes' worth of room unfilled.
void fill_disk(std::size_t spare) {
    const int fd = open((state_dir() + "/.filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    const std::string block(1024, 'x');
    while (write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size())) {
    }
    close(fd);
    if (spare > 0)
        assert_int_equal(truncate((state_dir() + "/.filler").c_str(),
                                  std::filesystem::file_size(state_dir() + "/.filler") -
                                      static_cast<off_t>(spare)),
                         0);
}

void unmount_state() {
    umount2(state_dir().c_str(), MNT_DETACH);
}

struct Login {
    int rc;
    std::vector<std::string> log;
    std::vector<int> priorities;
};

Login login(const std::string& code) {
    pam_handle handle;
    handle.user = "alice";
    handle.answers.emplace_back(code);
    const std::string config = "config=" + config_path();
    const char* argv[] = {config.c_str()};
    faults::arm({{}, kNow});
    const int rc = pam_sm_authenticate(&handle, 0, 1, argv);
    faults::disarm();
    return {rc, handle.log, handle.log_priorities};
}

std::string current_code() {
    return std::string(
        totp::hotp(secret(), totp::time_step(kNow, 30), totp::Algorithm::sha1, 6)->view());
}

bool logged_at_error(const Login& result, const std::string& text) {
    for (std::size_t i = 0; i < result.log.size(); ++i) {
        if (result.priorities[i] <= LOG_ERR && result.log[i].find(text) != std::string::npos)
            return true;
    }
    return false;
}

// totp-enroll as root for `arguments`, with nss_wrapper supplying the sandbox's users.
struct ToolResult {
    int status;
    std::string output;
};

ToolResult run_enroll(std::vector<std::string> arguments) {
    const char* tool = std::getenv("TOTP_ENROLL");
    if (tool == nullptr || *tool == '\0') return {-1, "TOTP_ENROLL not set"};
    const std::string output_path = g_root + "/tool.out";
    std::vector<std::string> env = {"NSS_WRAPPER_PASSWD=" + g_root + "/passwd",
                                    "NSS_WRAPPER_GROUP=" + g_root + "/group",
                                    "TOTP_TEST_NOW=" + std::to_string(kNow), "PATH=/usr/bin:/bin"};
    if (const char* preload = std::getenv("TOTP_TOOL_PRELOAD"))
        env.push_back(std::string("LD_PRELOAD=") + preload);
    if (const char* asan = std::getenv("ASAN_OPTIONS"))
        env.push_back(std::string("ASAN_OPTIONS=") + asan);
    arguments.insert(arguments.begin(), tool);
    std::vector<char*> argv, envp;
    for (auto& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, tool, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return {-1, std::strerror(spawned)};
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
            read_file(output_path)};
}

void expect_tool_failure(const ToolResult& result, const char* reason) {
    if (result.status != 1 || result.output.find(reason) == std::string::npos)
        fail_msg("totp-enroll: exit %d, expected 1 and '%s'; output:\n%s", result.status, reason,
                 result.output.c_str());
}

// A private mount namespace: every mount the tests make disappears with this process.
void enter_private_mount_namespace() {
    if (geteuid() != 0) test_support::cannot_run("needs root for a private mount namespace");
    if (unshare(CLONE_NEWNS) != 0) {
        test_support::cannot_run(std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno));
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        test_support::cannot_run(std::string("making / private: ") + std::strerror(errno));
    }
}

int setup(void**) {
    std::string root = "/tmp/pam_totp_storage.XXXXXX";
    assert_non_null(mkdtemp(root.data()));
    g_root = root;
    assert_int_equal(chmod(root.c_str(), 0755), 0);
    std::ofstream(g_root + "/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                         "alice:x:1001:1001::/home/alice:/bin/sh\n"
                                         "bob:x:1002:1002::/home/bob:/bin/sh\n";
    std::ofstream(g_root + "/group") << "root:x:0:\nalice:x:1001:\nbob:x:1002:\n";
    std::ofstream(config_path()) << "[global]\nstate_dir=" << state_dir() << "\n";
    faults::set_accounts({{"alice", 1001, 1001, "/home/alice", {}}}, {});
    return 0;
}

int teardown(void**) {
    if (g_root.empty()) return 0;
    unmount_state();
    std::error_code error;
    std::filesystem::remove_all(g_root, error);
    return error ? -1 : 0;
}

int fresh_state_dir(void**) {
    unmount_state();
    std::filesystem::remove_all(state_dir());
    assert_int_equal(mkdir(state_dir().c_str(), 0700), 0);
    return 0;
}

void full_disk_enrollment_is_refused_and_leaves_nothing(void**) {
    mount_small_tmpfs("64k", 64);
    assert_true(enroll("alice").ok());
    const std::string alice = read_file(state_dir() + "/alice");
    fill_disk(0);
    const auto before = entries(state_dir());

    const totp::Status saved = enroll("bob");
    assert_false(saved.ok());
    assert_int_equal(saved.error().code, totp::Errc::io);
    assert_non_null(std::strstr(saved.error().message.c_str(), "No space left on device"));
    expect_tool_failure(run_enroll({"--user", "bob", "--config", config_path(), "--no-confirm",
                                    "--qr", "none", "--recovery-codes", "0"}),
                        "No space left on device");
    assert_true(entries(state_dir()) == before);  // no state file, no temporary file
    assert_true(read_file(state_dir() + "/alice") == alice);
}

void nearly_full_disk_fails_mid_write_and_cleans_up(void**) {
    mount_small_tmpfs("64k", 64);
    fill_disk(4096);  // room for the first slot of a new file, not the second
    const auto before = entries(state_dir());
    const totp::Status saved = enroll("bob");
    assert_false(saved.ok());
    assert_true(entries(state_dir()) == before);
}

void no_free_inodes_enrollment_is_refused_and_leaves_nothing(void**) {
    mount_small_tmpfs("1m", 4);  // the root directory, alice, and little else
    assert_true(enroll("alice").ok());
    for (int i = 0;; ++i) {
        const int fd = open((state_dir() + "/.inode" + std::to_string(i)).c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) break;
        close(fd);
    }
    const auto before = entries(state_dir());
    assert_false(enroll("bob").ok());
    assert_true(entries(state_dir()) == before);
}

void full_disk_logins_are_still_recorded_in_place(void**) {
    mount_small_tmpfs("64k", 64);
    assert_true(enroll("alice").ok());
    fill_disk(0);
    // Both slots are preallocated: recording an attempt needs no new block.
    assert_int_equal(login("000000").rc, PAM_AUTH_ERR);
    assert_int_equal(std::filesystem::file_size(state_dir() + "/alice"), totp::kStateFileSize);
    assert_int_equal(login(current_code()).rc, PAM_SUCCESS);
    assert_int_equal(login(current_code()).rc, PAM_AUTH_ERR);  // and replays are still refused
}

void full_disk_reset_token_is_refused_and_leaves_nothing(void**) {
    mount_small_tmpfs("64k", 64);
    assert_true(enroll("alice").ok());
    auto store = totp::make_file_reset_token_store({.state_dir = state_dir(), .secret_path = ""});
    // The token directory exists once a token was stored; fill the disk after that.
    auto first = totp::issue_reset_token("alice", kNow + 600);
    assert_true(first.ok());
    assert_true(store->put_reset_token(first->selector, first->entry).ok());
    fill_disk(0);
    const auto before = entries(state_dir() + "/.reset-tokens");
    auto second = totp::issue_reset_token("alice", kNow + 600);
    assert_true(second.ok());
    const totp::Status put = store->put_reset_token(second->selector, second->entry);
    assert_false(put.ok());
    assert_true(entries(state_dir() + "/.reset-tokens") == before);
    assert_false(store->find_reset_token(second->selector).ok());
    assert_true(store->find_reset_token(first->selector).ok());
}

void read_only_store_fails_closed_and_writes_nothing(void**) {
    assert_true(enroll("alice").ok());
    const std::string alice = read_file(state_dir() + "/alice");
    assert_int_equal(mount(state_dir().c_str(), state_dir().c_str(), nullptr, MS_BIND, nullptr), 0);
    assert_int_equal(
        mount(nullptr, state_dir().c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr), 0);
    const auto before = entries(state_dir());

    const Login refused = login(current_code());
    assert_int_equal(refused.rc, PAM_AUTH_ERR);
    if (!logged_at_error(refused, "Read-only file system"))
        fail_msg("no clear log line for a read-only store");
    assert_false(enroll("bob").ok());
    expect_tool_failure(run_enroll({"--user", "bob", "--config", config_path(), "--no-confirm",
                                    "--qr", "none", "--recovery-codes", "0"}),
                        "Read-only file system");
    expect_tool_failure(run_enroll({"unlock", "--user", "alice", "--config", config_path()}),
                        "Read-only file system");
    auto token = totp::issue_reset_token("alice", kNow + 600);
    assert_false(totp::make_file_reset_token_store({.state_dir = state_dir(), .secret_path = ""})
                     ->put_reset_token(token->selector, token->entry)
                     .ok());
    assert_true(entries(state_dir()) == before);
    assert_true(read_file(state_dir() + "/alice") == alice);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(full_disk_enrollment_is_refused_and_leaves_nothing, fresh_state_dir),
        cmocka_unit_test_setup(nearly_full_disk_fails_mid_write_and_cleans_up, fresh_state_dir),
        cmocka_unit_test_setup(no_free_inodes_enrollment_is_refused_and_leaves_nothing,
                               fresh_state_dir),
        cmocka_unit_test_setup(full_disk_logins_are_still_recorded_in_place, fresh_state_dir),
        cmocka_unit_test_setup(full_disk_reset_token_is_refused_and_leaves_nothing,
                               fresh_state_dir),
        cmocka_unit_test_setup(read_only_store_fails_closed_and_writes_nothing, fresh_state_dir),
    };
    enter_private_mount_namespace();
    return cmocka_run_group_tests(tests, setup, teardown);
}
