// SPDX-License-Identifier: Apache-2.0
// Crash consistency: a process updating a state file in a loop is SIGKILLed at random
// moments, thousands of times. After every kill the file decodes, the secret is intact,
// the fields belong to one write (never a mix), and the record is the last one the process
// finished saving or the one it was saving when it died.
//
// Four writers: the store API (save in a tight loop), real logins through
// pam_sm_authenticate (each login accepts the next code and records its time step),
// enrollment and removal in turn (a new file is either absent or whole, with one link), and
// the upgrade of a version 1 file by its first save (the old file or the new one, whole).
// The record holds two authenticators, the second an HOTP token with a long secret, so a
// slot spans more than one page.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "scratch_dir.hpp"
#include "totp/otp.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"
#include "version_1_file.hpp"

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

// Kills per writer. Under AddressSanitizer every fork copies a large shadow map, so the
// sanitizer build (there for memory errors) kills fewer times than the hardened build.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kKills = 500;
#else
constexpr int kKills = 2000;
#endif
constexpr std::int64_t kEpoch = 1'700'000'000;
constexpr std::uint64_t kBaseStep = kEpoch / 30;

std::string g_dir;

std::string state_path() {
    return g_dir + "/alice";
}

totp::SecretBytes known_secret() {
    totp::SecretBytes secret(20);
    for (std::size_t i = 0; i < secret.size(); ++i)
        secret.data()[i] = static_cast<std::uint8_t>(0xA5 ^ i);
    return secret;
}

// The HOTP token the store writer moves along with the TOTP step.
totp::Authenticator hardware_token() {
    totp::Authenticator token;
    token.name = "yubikey";
    token.type = totp::OtpType::hotp;
    token.secret = totp::SecretBytes(totp::kMaxSecretBytes);
    for (std::size_t i = 0; i < token.secret.size(); ++i)
        token.secret.data()[i] = static_cast<std::uint8_t>(i * 3);
    token.counter = kBaseStep;
    return token;
}

void enroll() {
    std::filesystem::remove(state_path());
    totp::UserState state;
    one_token(state).secret = known_secret();
    one_token(state).last_step = kBaseStep;
    assert_true(totp::add_authenticator(state, hardware_token(), 8).ok());
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
    assert_true(record.ok());
    assert_true((*record)->save(state).ok());
}

// Writer messages go through a pipe, one write(2) each, so the parent knows what the
// child was doing when it died: 'B' before a save of step n, 'S' after it returned.
void tell(int fd, char what, std::uint64_t n) {
    char line[32];
    const int length =
        std::snprintf(line, sizeof line, "%c %llu\n", what, static_cast<unsigned long long>(n));
    if (write(fd, line, static_cast<std::size_t>(length)) != length) _exit(3);
}

// The store writer: last_step advances by one per save; failures and created are derived
// from it, so a record mixing two writes is visible.
[[noreturn]] void store_writer(int out) {
    auto store = totp::make_file_store({.state_dir = g_dir, .secret_path = ""});
    for (;;) {
        auto record = store->open("alice");
        if (!record || !(*record)->state()) _exit(2);
        totp::UserState state = (*record)->state()->clone();
        const std::uint64_t next = *one_token(state).last_step + 1;
        one_token(state).last_step = next;
        state.authenticators.at(1).counter = next;
        state.failures = static_cast<std::uint32_t>(next % 1000);
        state.created = static_cast<std::int64_t>(next * 7);
        tell(out, 'B', next);
        if (!(*record)->save(state)) _exit(4);
        tell(out, 'S', next);
    }
}

// The login writer: each login types the code of the step after the last accepted one.
[[noreturn]] void login_writer(int out) {
    faults::set_accounts({{"alice", 0, 0, "/root", {}}}, {});
    const totp::SecretBytes secret = known_secret();
    const std::string config = "config=" + g_dir + "/pam_totp.conf";
    const std::string dir = "state_dir=" + g_dir;
    const char* argv[] = {config.c_str(), dir.c_str(), "window=1"};
    for (;;) {
        auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
        if (!record || !(*record)->state()) _exit(2);
        std::uint64_t next = *one_token(*(*record)->state()).last_step + 1;
        record->reset();  // the module takes the lock itself
        // Two steps can share a 6-digit code; the module then records the later one.
        while (totp::hotp(secret, next, totp::Algorithm::sha1, 6)->view() ==
               totp::hotp(secret, next + 1, totp::Algorithm::sha1, 6)->view())
            ++next;
        auto code = totp::hotp(secret, next, totp::Algorithm::sha1, 6);
        pam_handle handle;
        handle.user = "alice";
        handle.answers.emplace_back(std::string(code->view()));
        faults::arm({{}, static_cast<std::int64_t>(next * 30)});
        tell(out, 'B', next);
        const int rc = pam_sm_authenticate(&handle, 0, 3, argv);
        faults::disarm();
        if (rc != PAM_SUCCESS) _exit(5);
        tell(out, 'S', next);
    }
}

struct Progress {
    std::optional<std::uint64_t> began;
    std::optional<std::uint64_t> saved;
    std::string text;  // everything the writer said
};

// Blocks until the writer has said something, so that the random delay before the kill
// starts from the writer's first save, not from fork(): a slow fork on a loaded machine
// must not turn the kills into kills before any save.
std::string wait_until_writing(int fd) {
    char buffer[4096];
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) fail_msg("the writer said nothing before it ended");
    return std::string(buffer, static_cast<std::size_t>(got));
}

// `text` is what wait_until_writing read already.
Progress read_progress(int fd, std::string text) {
    char buffer[4096];
    ssize_t got;
    while ((got = read(fd, buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(got));
    Progress progress;
    progress.text = text.size() > 200 ? text.substr(text.size() - 200) : text;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) break;  // a torn message cannot happen: one write each
        const std::uint64_t n = std::strtoull(text.c_str() + start + 2, nullptr, 10);
        (text[start] == 'B' ? progress.began : progress.saved) = n;
        start = end + 1;
    }
    return progress;
}

void check_file(std::uint64_t before, const Progress& progress, int kill) {
    std::ifstream in(state_path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    auto decoded = totp::decode_file(bytes);
    if (!decoded)
        fail_msg("kill %d: state file does not decode: %s", kill, decoded.error().message.c_str());
    const totp::UserState& state = decoded->state;
    const totp::SecretBytes secret = known_secret();
    if (one_token(state).secret.size() != secret.size() ||
        std::memcmp(one_token(state).secret.data(), secret.data(), secret.size()) != 0)
        fail_msg("kill %d: secret changed", kill);
    const std::uint64_t step = one_token(state).last_step.value();
    // Old or new: the last finished save, or the one in progress.
    const std::uint64_t finished = progress.saved.value_or(before);
    const std::uint64_t started = progress.began.value_or(before);
    if (step != finished && step != started)
        fail_msg(
            "kill %d: last_step %llu is neither the last saved (%llu) nor the one being "
            "saved (%llu); writer said: %s",
            kill, static_cast<unsigned long long>(step), static_cast<unsigned long long>(finished),
            static_cast<unsigned long long>(started), progress.text.c_str());
}

// Runs `writer` in a child until it first says something, then `delay_us` longer, and
// SIGKILLs it (a writer must not end by itself); what it said.
Progress run_and_kill(void (*writer)(int), int delay_us, int kill_number) {
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipe_fds[0]);
        writer(pipe_fds[1]);
    }
    close(pipe_fds[1]);
    std::string said = wait_until_writing(pipe_fds[0]);
    const timespec pause{0, static_cast<long>(delay_us) * 1000};
    nanosleep(&pause, nullptr);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
        fail_msg("kill %d: the writer stopped by itself (status %d)", kill_number, status);
    Progress progress = read_progress(pipe_fds[0], std::move(said));
    close(pipe_fds[0]);
    return progress;
}

// Kills the writer kKills times, each at a random moment of its run.
void kill_repeatedly(void (*writer)(int), std::uint64_t (*derived_check)(const totp::UserState&)) {
    enroll();
    std::mt19937 random(20240611);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
    std::uniform_int_distribution<int> delay_us(0, 3000);
    std::uint64_t step = kBaseStep;
    std::uint64_t saves = 0;
    int kills = 0;
    int mid_save = 0;  // kills that landed between a 'B' and its 'S'
    for (; kills < kKills; ++kills) {
        const Progress progress = run_and_kill(writer, delay_us(random), kills);
        if (progress.began && progress.began != progress.saved) ++mid_save;
        check_file(step, progress, kills);
        std::ifstream in(state_path(), std::ios::binary);
        auto decoded = totp::decode_file(std::string{std::istreambuf_iterator<char>(in), {}});
        derived_check(decoded->state);
        saves += *one_token(decoded->state).last_step - step;
        step = *one_token(decoded->state).last_step;
    }
    std::printf("%d kills (%d during a save), %llu saves survived\n", kills, mid_save,
                static_cast<unsigned long long>(saves));
    assert_true(mid_save >= kills / 10);  // the kills do hit the window that matters
    assert_true(saves > 0);
    // Whatever temporary files a kill left behind, the next opener is not confused by them.
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
    assert_true(record.ok());
}

std::uint64_t store_fields_agree(const totp::UserState& state) {
    const std::uint64_t step = *one_token(state).last_step;
    if (step != kBaseStep &&
        (state.failures != step % 1000 || state.created != static_cast<std::int64_t>(step * 7) ||
         state.authenticators.at(1).counter != step))
        fail_msg("record mixes two writes (last_step %llu, failures %u)",
                 static_cast<unsigned long long>(step), state.failures);
    return step;
}

std::uint64_t login_fields_agree(const totp::UserState& state) {
    if (state.failures != 0 || state.locked_until != 0)
        fail_msg("a successful login left failures");
    return *one_token(state).last_step;
}

// Enrollment and removal: a killed enroller leaves no state file or a complete one.
[[noreturn]] void enroller(int out) {
    auto store = totp::make_file_store({.state_dir = g_dir, .secret_path = ""});
    for (std::uint64_t n = 1;; ++n) {
        auto record = store->open("bob");
        if (!record) _exit(2);
        tell(out, 'B', n);
        if ((*record)->state()) {
            if (!(*record)->remove()) _exit(4);
        } else {
            totp::UserState state;
            one_token(state).secret = known_secret();
            if (!(*record)->save(state)) _exit(4);
        }
        tell(out, 'S', n);
    }
}

void killed_enrollments_leave_no_file_or_a_whole_one(void**) {
    std::mt19937 random(7);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
    std::uniform_int_distribution<int> delay_us(0, 2000);
    int kills = 0;
    for (; kills < kKills / 2; ++kills) {
        run_and_kill(enroller, delay_us(random), kills);
        struct stat st {};
        if (lstat((g_dir + "/bob").c_str(), &st) != 0) continue;  // not enrolled: fine
        std::ifstream in(g_dir + "/bob", std::ios::binary);
        auto decoded = totp::decode_file(std::string{std::istreambuf_iterator<char>(in), {}});
        if (!decoded)
            fail_msg("kill %d: enrollment left a partial file: %s", kills,
                     decoded.error().message.c_str());
        if (st.st_nlink != 1)
            fail_msg("kill %d: state file left with %d links", kills,
                     static_cast<int>(st.st_nlink));
    }
    int leftovers = 0;
    for (const auto& entry : std::filesystem::directory_iterator(g_dir))
        leftovers += entry.path().filename().string().starts_with(".bob.");
    std::printf("%d kills, %d temporary files left behind\n", kills, leftovers);
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("bob");
    assert_true(record.ok());
}

// A version 1 file of alice at kBaseStep, as a build before version 2 wrote it.
void write_version_1_file() {
    std::filesystem::remove(state_path());
    const std::string temp = state_path() + ".v1";
    std::ofstream(temp, std::ios::binary) << version_1_file(known_secret(), kBaseStep);
    assert_int_equal(chmod(temp.c_str(), 0600), 0);
    assert_int_equal(rename(temp.c_str(), state_path().c_str()), 0);
}

// The upgrade writer: one save of the next step, which replaces the version 1 file.
[[noreturn]] void upgrader(int out) {
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
    if (!record || !(*record)->state()) _exit(2);
    totp::UserState state = (*record)->state()->clone();
    one_token(state).last_step = kBaseStep + 1;
    tell(out, 'B', kBaseStep + 1);
    if (!(*record)->save(state)) _exit(4);
    tell(out, 'S', kBaseStep + 1);
    for (;;) pause();
}

void killed_upgrades_of_version_1_files_leave_the_old_or_the_new_file(void**) {
    std::mt19937 random(11);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
    std::uniform_int_distribution<int> delay_us(0, 200);
    int old_files = 0;
    int new_files = 0;
    for (int kill_number = 0; kill_number < kKills / 8; ++kill_number) {
        write_version_1_file();
        const Progress progress = run_and_kill(upgrader, delay_us(random), kill_number);
        check_file(kBaseStep, progress, kill_number);
        struct stat st {};
        assert_int_equal(lstat(state_path().c_str(), &st), 0);
        if (st.st_nlink != 1) fail_msg("kill %d: %d links", kill_number, int(st.st_nlink));
        const bool upgraded = st.st_size == static_cast<off_t>(totp::kStateFileSize);
        (upgraded ? new_files : old_files) += 1;
        std::ifstream in(state_path(), std::ios::binary);
        auto decoded = totp::decode_file(std::string{std::istreambuf_iterator<char>(in), {}});
        if (decoded->version != (upgraded ? totp::kStateFormatVersion : 1) ||
            *one_token(decoded->state).last_step != (upgraded ? kBaseStep + 1 : kBaseStep))
            fail_msg("kill %d: a version 1 file with the new step or the reverse", kill_number);
    }
    std::printf("%d old files, %d upgraded files\n", old_files, new_files);
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
    assert_true(record.ok());
}

void killed_store_writer_leaves_old_or_new_state(void**) {
    kill_repeatedly(store_writer, store_fields_agree);
}

void killed_logins_leave_old_or_new_state(void**) {
    kill_repeatedly(login_writer, login_fields_agree);
}

int setup(void**) {
    g_dir = test_support::make_scratch_dir(test_support::tmpfs_or_tmp(), "pam_totp_crash", 0700);
    std::ofstream(g_dir + "/pam_totp.conf") << "[global]\n";
    return 0;
}

}  // namespace

// An optional argument selects tests by name (cmocka's filter: '*' and '?' wildcards).
int main(int argc, char** argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    if (geteuid() != 0)
        test_support::cannot_run("needs root (the store insists on root-owned state)");
    const CMUnitTest tests[] = {
        cmocka_unit_test(killed_store_writer_leaves_old_or_new_state),
        cmocka_unit_test(killed_logins_leave_old_or_new_state),
        cmocka_unit_test(killed_enrollments_leave_no_file_or_a_whole_one),
        cmocka_unit_test(killed_upgrades_of_version_1_files_leave_the_old_or_the_new_file),
    };
    return cmocka_run_group_tests(tests, setup, test_support::remove_scratch_dir);
}
