// SPDX-License-Identifier: Apache-2.0
// The file store: ownership and mode checks, locking, crash safety, the home layout.
// Runs as root (it chowns files to other users), each test in its own temporary directory.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "one_token.hpp"
#include "totp/file_lock.hpp"
#include "totp/reset_token.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"
#include "totp/verify.hpp"
#include "version_1_file.hpp"

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

namespace {

using totp::Errc;
using totp::UserState;

constexpr uid_t kNobody = 65534;

struct Fixture {
    std::string dir;  // the state directory (0700 root)
    std::unique_ptr<totp::Store> store;

    std::string path(const std::string& name) const { return dir + "/" + name; }
};

int setup(void** context) {
    char pattern[] = "/tmp/totp-file-store-XXXXXX";
    if (::mkdtemp(pattern) == nullptr || ::chmod(pattern, 0700) != 0) return -1;
    auto* fixture = new Fixture;
    fixture->dir = pattern;
    fixture->store = totp::make_file_store({fixture->dir, ""});
    *context = fixture;
    return 0;
}

int teardown(void** context) {
    auto* fixture = static_cast<Fixture*>(*context);
    std::error_code ignored;
    std::filesystem::remove_all(fixture->dir, ignored);
    delete fixture;
    return 0;
}

Fixture& fixture_of(void** context) {
    return *static_cast<Fixture*>(*context);
}

UserState sample_state() {
    UserState state;
    const std::uint8_t key[] = "12345678901234567890";
    one_token(state).secret = totp::SecretBytes(key, 20);
    state.created = 1732400000;
    state.email = "alice@example.org";
    return state;
}

std::unique_ptr<totp::Record> open_ok(totp::Store& store, const std::string& user) {
    totp::Result<std::unique_ptr<totp::Record>> record = store.open(user);
    if (!record.ok()) print_error("open(%s): %s\n", user.c_str(), record.error().message.c_str());
    assert_true(record.ok());
    return std::move(*record);
}

void enroll(totp::Store& store, const std::string& user, const UserState& state) {
    std::unique_ptr<totp::Record> record = open_ok(store, user);
    assert_false(record->state().has_value());
    const totp::Status saved = record->save(state);
    if (!saved.ok()) print_error("save(%s): %s\n", user.c_str(), saved.error().message.c_str());
    assert_true(saved.ok());
}

void update(totp::Store& store, const std::string& user, std::uint32_t failures) {
    std::unique_ptr<totp::Record> record = open_ok(store, user);
    assert_true(record->state().has_value());
    UserState state = record->state()->clone();
    state.failures = failures;
    assert_true(record->save(state).ok());
}

std::uint32_t failures_of(totp::Store& store, const std::string& user) {
    std::unique_ptr<totp::Record> record = open_ok(store, user);
    assert_true(record->state().has_value());
    return record->state()->failures;
}

void assert_open_fails(totp::Store& store, const std::string& user, Errc code) {
    totp::Result<std::unique_ptr<totp::Record>> record = store.open(user);
    assert_false(record.ok());
    assert_int_equal(record.error().code, code);
    assert_false(record.error().message.empty());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void write_file(const std::string& path, const std::string& content, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(::write(fd, content.data(), content.size()),
                     static_cast<ssize_t>(content.size()));
    assert_int_equal(::fchmod(fd, mode), 0);
    ::close(fd);
}

std::vector<std::string> directory_entries(const std::string& path) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
        names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Runs `child` in `count` forked processes and asserts every one exited 0.
template <class Child>
void run_children(int count, Child child) {
    std::vector<pid_t> pids;
    for (int i = 0; i < count; ++i) {
        const pid_t pid = ::fork();
        assert_true(pid >= 0);
        if (pid == 0) ::_exit(child(i));
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        assert_int_equal(::waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

// Fails the test (rather than hanging the suite) if a call blocks.
struct Watchdog {
    explicit Watchdog(unsigned seconds) { ::alarm(seconds); }
    ~Watchdog() { ::alarm(0); }
};

// Forks a process that opens `user`'s record (taking its lock) and stops itself, as a
// user's suspended totp-enroll would; returns once it is stopped, still holding the lock.
pid_t stopped_record_holder(const std::string& dir, const std::string& user) {
    const pid_t pid = ::fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a failed test must not leave it behind
        totp::Result<std::unique_ptr<totp::Record>> record =
            totp::make_file_store({dir, ""})->open(user);
        if (!record.ok()) ::_exit(1);
        ::raise(SIGSTOP);
        ::_exit(0);
    }
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, WUNTRACED), pid);
    assert_true(WIFSTOPPED(status));
    return pid;
}

// Lets a stopped holder go on and exit (which releases its lock).
void resume_and_reap(pid_t pid) {
    assert_int_equal(::kill(pid, SIGCONT), 0);
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

std::string fs_uid_line() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("Uid:")) return line;
    }
    return {};
}

}  // namespace

static void enrolled_state_round_trips(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    {
        std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
        assert_true(record->state().has_value());
        assert_int_equal(one_token(*record->state()).secret.size(), 20);
        assert_memory_equal(one_token(*record->state()).secret.data(), "12345678901234567890", 20);
        assert_string_equal(record->state()->email.c_str(), "alice@example.org");
        assert_true(record->state()->created == 1732400000);
        UserState changed = record->state()->clone();
        one_token(changed).last_step = 1234;
        assert_true(record->save(changed).ok());
        changed.failures = 1;
        assert_true(record->save(changed).ok());  // a second update through the same Record
        assert_int_equal(record->state()->failures, 1);
    }
    std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
    assert_true(one_token(*record->state()).last_step == 1234u);
    assert_int_equal(record->state()->failures, 1);
}

static void record_created_by_save_accepts_further_saves(void** context) {
    Fixture& f = fixture_of(context);
    {
        std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
        assert_true(record->save(sample_state()).ok());
        UserState changed = sample_state();
        changed.failures = 7;
        assert_true(record->save(changed).ok());
    }
    assert_int_equal(failures_of(*f.store, "alice"), 7);
}

static void state_file_is_0600_root_and_exactly_two_slots(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    struct stat st {};
    assert_int_equal(::stat(f.path("alice").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_size, totp::kStateFileSize);
    const std::string content = read_file(f.path("alice"));
    assert_true(content.starts_with("pam_totp-state v2\nsequence=1\n"));
    assert_true(content.substr(totp::kSlotSize) == std::string(totp::kSlotSize, '\n'));
    // No temporary file is left behind.
    assert_true(directory_entries(f.dir) == std::vector<std::string>{"alice"});
}

static void updates_alternate_between_slots(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    update(*f.store, "alice", 1);
    std::string content = read_file(f.path("alice"));
    assert_true(content.starts_with("pam_totp-state v2\nsequence=1\n"));
    assert_true(content.substr(totp::kSlotSize).starts_with("pam_totp-state v2\nsequence=2\n"));
    update(*f.store, "alice", 2);
    content = read_file(f.path("alice"));
    assert_true(content.starts_with("pam_totp-state v2\nsequence=3\n"));
    assert_true(content.substr(totp::kSlotSize).starts_with("pam_totp-state v2\nsequence=2\n"));
}

// A user enrolled by a version 1 build keeps logging in: the file is read, and the first
// save replaces it with a version 2 file holding the same record and the change.
static void version_1_file_is_read_and_upgraded_by_the_next_save(void** context) {
    Fixture& f = fixture_of(context);
    const std::uint8_t key[] = "12345678901234567890";
    const std::string v1 = version_1_file(totp::SecretBytes(key, 20), 57746667, 41);
    // In slot 1, the other one never written: the upgrade must not depend on the slot.
    write_file(f.path("alice"), v1.substr(totp::kV1SlotSize) + v1.substr(0, totp::kV1SlotSize),
               0600);

    {
        std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
        assert_true(record->state().has_value());
        UserState state = record->state()->clone();
        assert_true(one_token(state).last_step == 57746667u);
        one_token(state).last_step = 57746668;
        assert_true(record->save(state).ok());
        one_token(state).last_step = 57746669;  // a second save, into the new file's slots
        assert_true(record->save(state).ok());
    }
    struct stat st {};
    assert_int_equal(::stat(f.path("alice").c_str(), &st), 0);
    assert_int_equal(st.st_size, totp::kStateFileSize);
    assert_int_equal(st.st_mode & 07777, 0600);
    const std::string content = read_file(f.path("alice"));
    assert_true(content.starts_with("pam_totp-state v2\nsequence=42\n"));
    assert_true(content.substr(totp::kSlotSize).starts_with("pam_totp-state v2\nsequence=43\n"));
    assert_true(directory_entries(f.dir) == std::vector<std::string>{"alice"});
    std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
    assert_true(one_token(*record->state()).last_step == 57746669u);
    assert_string_equal(record->state()->email.c_str(), "alice@example.org");
}

// Logins racing the upgrade with one code: the first save replaces the version 1 file while
// the others wait for the old file's lock; they must find it replaced and read the new one,
// so the code is accepted exactly once and no second file is left.
static void logins_racing_the_version_1_upgrade_accept_one_code_once(void** context) {
    Fixture& f = fixture_of(context);
    const std::uint8_t key[] = "12345678901234567890";
    const totp::SecretBytes secret(key, 20);
    constexpr std::int64_t kNow = 1'732'400'000;
    const std::uint64_t step = totp::time_step(kNow, 30);
    write_file(f.path("alice"), version_1_file(secret, step - 1), 0600);
    const std::string code(totp::hotp(secret, step, totp::Algorithm::sha1, 6)->view());

    constexpr int kRacers = 12;
    const totp::Policy kRacePolicy{.window = 1, .max_failures = 100, .lockout_seconds = 60};
    int start[2];
    assert_int_equal(::pipe(start), 0);
    std::vector<pid_t> racers;
    for (int i = 0; i < kRacers; ++i) {
        const pid_t pid = ::fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ::close(start[1]);
            char ignored;
            if (::read(start[0], &ignored, 1) != 0) ::_exit(2);
            auto store = totp::make_file_store({f.dir, ""});
            auto record = store->open("alice");
            if (!record || !(*record)->state()) ::_exit(2);
            UserState state = (*record)->state()->clone();
            const totp::Decision decision = totp::decide(state, code, kRacePolicy, kNow);
            const bool saved = !decision.state_changed || (*record)->save(state).ok();
            ::_exit(saved && decision.verdict == totp::Verdict::accepted_code ? 0 : 1);
        }
        racers.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]);  // every racer starts now
    int accepted = 0;
    for (const pid_t pid : racers) {
        int status = 0;
        assert_int_equal(::waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 2);
        accepted += WEXITSTATUS(status) == 0 ? 1 : 0;
    }
    assert_int_equal(accepted, 1);
    assert_true(directory_entries(f.dir) == std::vector<std::string>{"alice"});
    std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
    assert_true(one_token(*record->state()).last_step == step);
    assert_int_equal(record->state()->failures, kRacers - 1);  // every replay counted
    assert_int_equal(read_file(f.path("alice")).size(), totp::kStateFileSize);
}

static void unenrolled_user_has_no_state(void** context) {
    Fixture& f = fixture_of(context);
    std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
    assert_false(record->state().has_value());
    assert_int_equal(record->remove().error().code, Errc::not_found);
    // Opening must not create anything.
    assert_true(directory_entries(f.dir).empty());
}

static void symlink_at_the_state_path_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(::symlink(f.path("alice").c_str(), f.path("bob").c_str()), 0);
    assert_open_fails(*f.store, "bob", Errc::unsafe);
    assert_int_equal(::symlink("/nonexistent", f.path("carol").c_str()), 0);
    assert_open_fails(*f.store, "carol", Errc::unsafe);
}

static void hard_linked_state_file_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(::link(f.path("alice").c_str(), f.path("bob").c_str()), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_open_fails(*f.store, "bob", Errc::unsafe);
}

static void state_file_not_owned_by_root_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(::chown(f.path("alice").c_str(), 1234, 1234), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
}

static void state_file_readable_by_group_or_others_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    for (mode_t mode : {0640, 0604, 0620, 0602, 0601, 0610, 0666}) {
        assert_int_equal(::chmod(f.path("alice").c_str(), mode), 0);
        assert_open_fails(*f.store, "alice", Errc::unsafe);
    }
    assert_int_equal(::chmod(f.path("alice").c_str(), 0644), 0);
    totp::Result<std::unique_ptr<totp::Record>> record = f.store->open("alice");
    assert_false(record.ok());
    assert_string_equal(
        record.error().message.c_str(),
        ("state file " + f.path("alice") + ": is world-readable (mode 0644), refusing").c_str());
    assert_int_equal(::chmod(f.path("alice").c_str(), 0400), 0);
    assert_true(f.store->open("alice").ok());
}

static void unsafe_state_directory_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(::chmod(f.dir.c_str(), 0755), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_int_equal(f.store->users().error().code, Errc::unsafe);
    assert_int_equal(::chmod(f.dir.c_str(), 0700), 0);
    assert_int_equal(::chown(f.dir.c_str(), 1234, 0), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_int_equal(::chown(f.dir.c_str(), 0, 0), 0);
    assert_true(f.store->open("alice").ok());

    const std::string link = f.dir + ".link";
    assert_int_equal(::symlink(f.dir.c_str(), link.c_str()), 0);
    assert_open_fails(*totp::make_file_store({link, ""}), "alice", Errc::unsafe);
    ::unlink(link.c_str());

    assert_open_fails(*totp::make_file_store({f.dir + "/missing", ""}), "alice", Errc::not_found);
    assert_open_fails(*totp::make_file_store({"relative/dir", ""}), "alice",
                      Errc::invalid_argument);
    write_file(f.path("plain"), "x", 0600);
    assert_open_fails(*totp::make_file_store({f.path("plain"), ""}), "alice", Errc::unsafe);
}

static void fifo_or_directory_at_the_state_path_is_refused_without_hanging(void** context) {
    Fixture& f = fixture_of(context);
    Watchdog watchdog(10);
    assert_int_equal(::mkfifo(f.path("alice").c_str(), 0600), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_int_equal(::mkdir(f.path("bob").c_str(), 0700), 0);
    assert_open_fails(*f.store, "bob", Errc::unsafe);
}

static void unsafe_user_names_are_refused(void** context) {
    Fixture& f = fixture_of(context);
    for (const char* user : {"", ".", "..", ".alice", "../etc/shadow", "a/b", "alice\n"}) {
        assert_open_fails(*f.store, user, Errc::unsafe);
    }
    assert_open_fails(*f.store, std::string(257, 'a'), Errc::unsafe);
}

static void corrupt_state_file_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    write_file(f.path("alice"), std::string(totp::kStateFileSize, 'x'), 0600);
    assert_open_fails(*f.store, "alice", Errc::corrupt);
    write_file(f.path("alice"), "", 0600);
    assert_open_fails(*f.store, "alice", Errc::corrupt);

    enroll(*f.store, "bob", sample_state());
    std::string content = read_file(f.path("bob"));
    write_file(f.path("bob"), content + "\n", 0600);
    assert_open_fails(*f.store, "bob", Errc::corrupt);
    write_file(f.path("bob"), content.substr(0, totp::kStateFileSize - 1), 0600);
    assert_open_fails(*f.store, "bob", Errc::corrupt);
    content[20] ^= 0x01;
    write_file(f.path("bob"), content, 0600);
    assert_open_fails(*f.store, "bob", Errc::corrupt);
}

static void removed_record_is_no_longer_enrolled(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    {
        std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
        assert_true(record->remove().ok());
        assert_false(record->state().has_value());
    }
    assert_false(open_ok(*f.store, "alice")->state().has_value());
    assert_true(directory_entries(f.dir).empty());
    enroll(*f.store, "alice", sample_state());  // and can enroll again
}

static void users_lists_only_enrolled_state_files(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "carol", sample_state());
    enroll(*f.store, "alice", sample_state());
    enroll(*f.store, "bob", sample_state());
    write_file(f.path(".alice.0123456789abcdef.tmp"), "x", 0600);
    assert_int_equal(::mkdir(f.path("dave").c_str(), 0700), 0);
    assert_int_equal(::symlink(f.path("alice").c_str(), f.path("erin").c_str()), 0);
    assert_int_equal(::mkfifo(f.path("frank").c_str(), 0600), 0);
    write_file(f.path("bad\x01name"), "x", 0600);

    totp::Result<std::vector<std::string>> users = f.store->users();
    assert_true(users.ok());
    assert_true(*users == (std::vector<std::string>{"alice", "bob", "carol"}));
}

// A creator killed before publishing leaves `.alice.<hex>.tmp`; the next enrollment of
// alice removes it, but not a temp file whose creator still holds its lock, a fresh one, a
// symlink or a FIFO with such a name (without hanging on it), or another user's.
static void enrollment_removes_abandoned_temp_files(void** context) {
    Fixture& f = fixture_of(context);
    const auto plant = [&f](const std::string& name, bool old) {
        write_file(f.path(name), "partial", 0600);
        if (old) {
            const timespec hour_ago[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
            assert_int_equal(::utimensat(AT_FDCWD, f.path(name).c_str(), hour_ago, 0), 0);
        }
    };
    plant(".alice.00112233445566aa.tmp", true);    // abandoned
    plant(".alice.00112233445566bb.tmp", true);    // its creator is alive (we hold the lock)
    plant(".alice.00112233445566cc.tmp", false);   // just created
    plant(".bob.00112233445566dd.tmp", true);      // another user's
    plant(".alice.00112233445566ee.tmp.x", true);  // not a temp name
    assert_int_equal(::symlink(f.path(".bob.00112233445566dd.tmp").c_str(),
                               f.path(".alice.00112233445566ff.tmp").c_str()),
                     0);
    assert_int_equal(::mkfifo(f.path(".alice.0011223344556600.tmp").c_str(), 0600), 0);
    const int held = ::open(f.path(".alice.00112233445566bb.tmp").c_str(), O_RDONLY | O_CLOEXEC);
    assert_true(held >= 0);
    assert_int_equal(::flock(held, LOCK_EX), 0);

    enroll(*f.store, "alice", sample_state());
    ::close(held);

    assert_true(directory_entries(f.dir) ==
                (std::vector<std::string>{
                    ".alice.0011223344556600.tmp", ".alice.00112233445566bb.tmp",
                    ".alice.00112233445566cc.tmp", ".alice.00112233445566ee.tmp.x",
                    ".alice.00112233445566ff.tmp", ".bob.00112233445566dd.tmp", "alice"}));
}

static void concurrent_updates_are_not_lost(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    const std::string dir = f.dir;
    run_children(8, [&dir](int) {
        std::unique_ptr<totp::Store> store = totp::make_file_store({dir, ""});
        for (int i = 0; i < 50; ++i) {
            totp::Result<std::unique_ptr<totp::Record>> record = store->open("alice");
            if (!record.ok() || !(*record)->state()) return 1;
            UserState state = (*record)->state()->clone();
            state.failures += 1;
            if (!(*record)->save(state).ok()) return 2;
        }
        return 0;
    });
    assert_int_equal(failures_of(*f.store, "alice"), 400);
}

static void concurrent_enrollment_leaves_one_valid_file(void** context) {
    Fixture& f = fixture_of(context);
    const std::string dir = f.dir;
    run_children(4, [&dir](int child) {
        std::unique_ptr<totp::Store> store = totp::make_file_store({dir, ""});
        totp::Result<std::unique_ptr<totp::Record>> record = store->open("alice");
        if (!record.ok()) return 1;
        if ((*record)->state()) return 0;  // another child was faster
        UserState state = sample_state();
        state.failures = static_cast<std::uint32_t>(child);
        const totp::Status saved = (*record)->save(state);
        return saved.ok() || saved.error().code == Errc::busy ? 0 : 3;
    });
    std::unique_ptr<totp::Record> record = open_ok(*f.store, "alice");
    assert_true(record->state().has_value());
    assert_true(record->state()->failures < 4);
    assert_true(directory_entries(f.dir) == std::vector<std::string>{"alice"});
}

static void opener_waiting_on_a_removed_file_sees_no_enrollment(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    // Fork before taking the lock: a child would inherit the locked open file description,
    // and the lock would outlive the parent's Record.
    int go[2];
    assert_int_equal(::pipe(go), 0);
    const std::string dir = f.dir;
    const pid_t pid = ::fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ::close(go[1]);
        char byte = 0;
        if (::read(go[0], &byte, 1) != 1) ::_exit(2);
        totp::Result<std::unique_ptr<totp::Record>> record =
            totp::make_file_store({dir, ""})->open("alice");
        ::_exit(record.ok() && !(*record)->state() ? 0 : 1);
    }
    ::close(go[0]);
    std::unique_ptr<totp::Record> held = open_ok(*f.store, "alice");
    assert_int_equal(::write(go[1], "x", 1), 1);
    ::close(go[1]);
    ::usleep(200 * 1000);  // let the child block on the lock
    assert_true(held->remove().ok());
    held.reset();
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// A user can stop their own totp-enroll while it holds their record. Whoever opens the
// record next gives up at the lock deadline (not before) with Errc::busy naming the lock,
// instead of waiting for good; once the holder is gone the record opens again.
static void lock_held_by_stopped_process_fails_closed_within_deadline(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    const pid_t holder = stopped_record_holder(f.dir, "alice");
    {
        const Watchdog watchdog(30);
        const auto started = std::chrono::steady_clock::now();
        totp::Result<std::unique_ptr<totp::Record>> record = f.store->open("alice");
        const auto waited = std::chrono::steady_clock::now() - started;
        assert_false(record.ok());
        assert_int_equal(record.error().code, Errc::busy);
        const std::string& message = record.error().message;
        assert_non_null(std::strstr(message.c_str(), "locked by another process"));
        assert_non_null(std::strstr(message.c_str(), f.path("alice").c_str()));
        assert_true(waited >= totp::kLockDeadline);
        assert_true(waited < totp::kLockDeadline + std::chrono::seconds(5));
    }
    resume_and_reap(holder);
    assert_true(open_ok(*f.store, "alice")->state().has_value());
}

static void torn_newer_slot_falls_back_to_the_last_good_state(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    update(*f.store, "alice", 5);  // sequence 2, in slot 1
    const int fd = ::open(f.path("alice").c_str(), O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    const std::string garbage(500, '\0');
    assert_int_equal(::pwrite(fd, garbage.data(), garbage.size(), totp::kSlotSize + 300),
                     static_cast<ssize_t>(garbage.size()));
    ::close(fd);

    assert_int_equal(failures_of(*f.store, "alice"), 0);
    update(*f.store, "alice", 9);  // overwrites the torn slot, never the good one
    assert_int_equal(failures_of(*f.store, "alice"), 9);
    assert_true(read_file(f.path("alice")).starts_with("pam_totp-state v2\nsequence=1\n"));
}

static void failed_write_leaves_the_previous_state(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    update(*f.store, "alice", 5);  // sequence 2 in slot 1; the next write goes to slot 0
    const std::string dir = f.dir;
    // A file size limit stands in for a full disk: the write into slot 0 stops after
    // 100 bytes, leaving a torn slot, and save must report the failure.
    run_children(1, [&dir](int) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{100, 100};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 1;
        std::unique_ptr<totp::Store> store = totp::make_file_store({dir, ""});
        totp::Result<std::unique_ptr<totp::Record>> record = store->open("alice");
        if (!record.ok()) return 2;
        UserState state = (*record)->state()->clone();
        state.failures = 6;
        const totp::Status saved = (*record)->save(state);
        if (saved.ok() || saved.error().code != Errc::io) return 3;
        if ((*record)->state()->failures != 5) return 4;  // memory matches disk
        return 0;
    });
    assert_false(read_file(f.path("alice")).starts_with("pam_totp-state v2\nsequence=1\n"));
    assert_int_equal(failures_of(*f.store, "alice"), 5);
}

static void failed_enrollment_leaves_no_file(void** context) {
    Fixture& f = fixture_of(context);
    const std::string dir = f.dir;
    run_children(1, [&dir](int) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{5000, 5000};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 1;
        std::unique_ptr<totp::Store> store = totp::make_file_store({dir, ""});
        totp::Result<std::unique_ptr<totp::Record>> record = store->open("alice");
        if (!record.ok()) return 2;
        const totp::Status saved = (*record)->save(sample_state());
        if (saved.ok() || saved.error().code != Errc::io) return 3;
        return (*record)->state() ? 4 : 0;
    });
    assert_true(directory_entries(f.dir).empty());
    assert_false(open_ok(*f.store, "alice")->state().has_value());
}

// Home layout: <home>/nobody/state, owned by nobody (the only account every system has).
struct Home {
    std::string base;  // 0755 root, holds one directory per user
    std::string user_dir;
    std::string file;
    std::unique_ptr<totp::Store> store;
};

Home make_home(const Fixture& f) {
    Home home;
    home.base = f.path("home");
    home.user_dir = home.base + "/nobody";
    home.file = home.user_dir + "/state";
    assert_int_equal(::chmod(f.dir.c_str(), 0755), 0);  // nobody must reach its directory
    assert_int_equal(::mkdir(home.base.c_str(), 0755), 0);
    assert_int_equal(::mkdir(home.user_dir.c_str(), 0700), 0);
    assert_int_equal(::chown(home.user_dir.c_str(), kNobody, kNobody), 0);
    home.store = totp::make_file_store({"/nonexistent", home.base + "/%u/state"});
    return home;
}

static void home_layout_creates_a_file_owned_by_the_user(void** context) {
    Home home = make_home(fixture_of(context));
    const std::string uid_before = fs_uid_line();
    enroll(*home.store, "nobody", sample_state());
    assert_string_equal(fs_uid_line().c_str(), uid_before.c_str());  // identity restored

    struct stat st {};
    assert_int_equal(::stat(home.file.c_str(), &st), 0);
    assert_int_equal(st.st_uid, kNobody);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, totp::kStateFileSize);

    update(*home.store, "nobody", 3);
    assert_int_equal(failures_of(*home.store, "nobody"), 3);
    assert_string_equal(fs_uid_line().c_str(), uid_before.c_str());
    assert_true(directory_entries(home.user_dir) == std::vector<std::string>{"state"});
    assert_int_equal(home.store->users().error().code, Errc::unsupported);
}

static void home_layout_refuses_a_root_owned_file(void** context) {
    Home home = make_home(fixture_of(context));
    enroll(*home.store, "nobody", sample_state());
    assert_int_equal(::chown(home.file.c_str(), 0, 0), 0);
    assert_open_fails(*home.store, "nobody", Errc::unsafe);
}

static void home_layout_refuses_a_group_readable_file(void** context) {
    Home home = make_home(fixture_of(context));
    enroll(*home.store, "nobody", sample_state());
    assert_int_equal(::chmod(home.file.c_str(), 0640), 0);
    assert_open_fails(*home.store, "nobody", Errc::unsafe);
}

static void home_layout_refuses_a_directory_others_can_write(void** context) {
    Home home = make_home(fixture_of(context));
    enroll(*home.store, "nobody", sample_state());
    assert_int_equal(::chmod(home.user_dir.c_str(), 0770), 0);
    assert_open_fails(*home.store, "nobody", Errc::unsafe);
    assert_int_equal(::chmod(home.user_dir.c_str(), 0700), 0);
    assert_int_equal(::chown(home.user_dir.c_str(), 1234, 1234), 0);
    assert_open_fails(*home.store, "nobody", Errc::unsafe);
}

static void home_layout_checks_access_as_the_user(void** context) {
    Home home = make_home(fixture_of(context));
    // Root could read through a 0700 root directory; the user cannot.
    assert_int_equal(::chown(home.user_dir.c_str(), 0, 0), 0);
    assert_open_fails(*home.store, "nobody", Errc::io);
}

static void home_layout_refuses_unknown_users_and_bad_templates(void** context) {
    Fixture& f = fixture_of(context);
    Home home = make_home(f);
    assert_open_fails(*home.store, "no-such-user-pam-totp", Errc::not_found);
    assert_open_fails(*totp::make_file_store({"/nonexistent", "%u/state"}), "nobody",
                      Errc::invalid_argument);
    // nobody's home is /nonexistent; missing directories are reported, never created.
    assert_open_fails(*totp::make_file_store({"/nonexistent", "~/.pam_totp"}), "nobody",
                      Errc::not_found);
    assert_int_equal(::access("/nonexistent", F_OK), -1);
    assert_open_fails(*totp::make_file_store({"/nonexistent", home.base + "/%u/sub/state"}),
                      "nobody", Errc::not_found);
}

static void enrolled_says_whether_a_record_exists(void** context) {
    Fixture& f = fixture_of(context);
    assert_false(*f.store->enrolled("alice"));
    enroll(*f.store, "alice", sample_state());
    assert_true(*f.store->enrolled("alice"));
    assert_true(directory_entries(f.dir) == std::vector<std::string>{"alice"});
}

// 0711 and its halves: search only, so a caller that is not root can tell "no record"
// from "cannot read it" (pam_totp(8)); nothing can be listed, files stay 0600 root.
static void state_directory_searchable_by_others_is_accepted(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    for (mode_t mode : {0711, 0710, 0701}) {
        assert_int_equal(::chmod(f.dir.c_str(), mode), 0);
        assert_true(open_ok(*f.store, "alice")->state().has_value());
        assert_true(*f.store->enrolled("alice"));
        assert_true(f.store->users().ok());
    }
}

static void state_directory_readable_or_writable_by_others_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    for (mode_t mode : {0755, 0705, 0730, 0750, 0702, 0720, 0704, 0740, 0777}) {
        assert_int_equal(::chmod(f.dir.c_str(), mode), 0);
        assert_open_fails(*f.store, "alice", Errc::unsafe);
        assert_int_equal(f.store->enrolled("alice").error().code, Errc::unsafe);
    }
}

// The reset tokens' directory holds nothing another caller needs to probe: still 0700.
static void reset_token_directory_searchable_by_others_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    totp::ResetTokenEntry entry;
    entry.user = "alice";
    entry.expires = 2000000000;
    const std::string selector(totp::kResetSelectorHexLength, 'a');
    const std::unique_ptr<totp::ResetTokenStore> tokens =
        totp::make_file_reset_token_store({f.dir, ""});
    assert_true(tokens->put_reset_token(selector, entry).ok());
    assert_int_equal(::chmod((f.dir + "/.reset-tokens").c_str(), 0711), 0);
    assert_int_equal(tokens->find_reset_token(selector).error().code, Errc::unsafe);
}

// What `probe` returns when run by a process that dropped every privilege to nobody.
template <class Probe>
int as_nobody(Probe probe) {
    const pid_t pid = ::fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0) {
            ::_exit(99);
        }
        ::_exit(probe());
    }
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

// Exit codes of the probes below.
enum Probe : int { kYes = 10, kNo, kNotPermitted, kOther };

int enrolled_probe(const std::string& dir, const std::string& user) {
    const totp::Result<bool> enrolled = totp::make_file_store({dir, ""})->enrolled(user);
    if (!enrolled) return enrolled.error().code == Errc::not_permitted ? kNotPermitted : kOther;
    return *enrolled ? kYes : kNo;
}

int open_probe(const std::string& dir, const std::string& user) {
    const auto record = totp::make_file_store({dir, ""})->open(user);
    if (record.ok()) return kYes;
    return record.error().code == Errc::not_permitted ? kNotPermitted : kOther;
}

// A caller that is not root (a screen locker) sees through a 0711 directory whether a
// record exists, and is told it may not read one: never "not enrolled", never a plain I/O
// error.
static void caller_that_is_not_root_can_probe_but_not_read_a_0711_directory(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(::chmod(f.dir.c_str(), 0711), 0);
    assert_int_equal(as_nobody([&] { return enrolled_probe(f.dir, "bob"); }), kNo);
    assert_int_equal(as_nobody([&] { return enrolled_probe(f.dir, "alice"); }), kYes);
    assert_int_equal(as_nobody([&] { return open_probe(f.dir, "alice"); }), kNotPermitted);
    // A login asks enrolled() first and open() reuses its directory.
    assert_int_equal(as_nobody([&] {
                         auto store = totp::make_file_store({f.dir, ""});
                         if (!store->enrolled("alice").ok()) return kOther;
                         const auto record = store->open("alice");
                         return !record.ok() && record.error().code == Errc::not_permitted
                                    ? kNotPermitted
                                    : kOther;
                     }),
                     kNotPermitted);
}

// Without search permission nothing can be told: every name is "not permitted".
static void caller_that_is_not_root_cannot_probe_a_0700_directory(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    assert_int_equal(as_nobody([&] { return enrolled_probe(f.dir, "bob"); }), kNotPermitted);
    assert_int_equal(as_nobody([&] { return enrolled_probe(f.dir, "alice"); }), kNotPermitted);
    assert_int_equal(as_nobody([&] { return open_probe(f.dir, "bob"); }), kNotPermitted);
}

// enrolled() only looks; the full checks are open()'s, which still refuses these.
static void enrolled_counts_unsafe_or_corrupt_files_and_open_refuses_them(void** context) {
    Fixture& f = fixture_of(context);
    assert_int_equal(::symlink("/nonexistent", f.path("alice").c_str()), 0);
    write_file(f.path("bob"), std::string(totp::kStateFileSize, 'x'), 0600);
    assert_int_equal(::mkdir(f.path("carol").c_str(), 0700), 0);
    for (const char* user : {"alice", "bob", "carol"}) assert_true(*f.store->enrolled(user));
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_open_fails(*f.store, "bob", Errc::corrupt);
    assert_open_fails(*f.store, "carol", Errc::unsafe);
}

static void enrolled_refuses_unsafe_names_and_directories(void** context) {
    Fixture& f = fixture_of(context);
    assert_int_equal(f.store->enrolled("../etc/shadow").error().code, Errc::unsafe);
    assert_int_equal(::chmod(f.dir.c_str(), 0755), 0);
    assert_int_equal(f.store->enrolled("alice").error().code, Errc::unsafe);
    assert_int_equal(
        totp::make_file_store({f.dir + "/missing", ""})->enrolled("alice").error().code,
        Errc::not_found);
}

// open() after enrolled() reuses the directory enrolled() opened, but checks it again:
// a directory made unsafe while the user typed the code is still refused.
static void open_after_enrolled_checks_the_directory_again(void** context) {
    Fixture& f = fixture_of(context);
    enroll(*f.store, "alice", sample_state());
    enroll(*f.store, "bob", sample_state());
    assert_true(*f.store->enrolled("alice"));
    assert_int_equal(::chmod(f.dir.c_str(), 0755), 0);
    assert_open_fails(*f.store, "alice", Errc::unsafe);
    assert_int_equal(::chmod(f.dir.c_str(), 0700), 0);

    // Kept for alice, not for whoever is opened next.
    assert_true(*f.store->enrolled("alice"));
    assert_true(open_ok(*f.store, "bob")->state().has_value());
    assert_true(open_ok(*f.store, "alice")->state().has_value());
}

static void home_layout_enrolled_checks_as_the_user_and_knows_no_unknown_users(void** context) {
    Home home = make_home(fixture_of(context));
    assert_false(*home.store->enrolled("nobody"));
    enroll(*home.store, "nobody", sample_state());
    assert_true(*home.store->enrolled("nobody"));
    assert_false(*home.store->enrolled("no-such-user-pam-totp"));
    assert_int_equal(::chown(home.user_dir.c_str(), 0, 0), 0);
    assert_int_equal(home.store->enrolled("nobody").error().code, Errc::io);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enrolled_state_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(enrollment_removes_abandoned_temp_files, setup, teardown),
        cmocka_unit_test_setup_teardown(record_created_by_save_accepts_further_saves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(state_file_is_0600_root_and_exactly_two_slots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(updates_alternate_between_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(version_1_file_is_read_and_upgraded_by_the_next_save, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(logins_racing_the_version_1_upgrade_accept_one_code_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(unenrolled_user_has_no_state, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_at_the_state_path_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(hard_linked_state_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(state_file_not_owned_by_root_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(state_file_readable_by_group_or_others_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unsafe_state_directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(state_directory_searchable_by_others_is_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(state_directory_readable_or_writable_by_others_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(reset_token_directory_searchable_by_others_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            caller_that_is_not_root_can_probe_but_not_read_a_0711_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(caller_that_is_not_root_cannot_probe_a_0700_directory,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            fifo_or_directory_at_the_state_path_is_refused_without_hanging, setup, teardown),
        cmocka_unit_test_setup_teardown(unsafe_user_names_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_state_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(removed_record_is_no_longer_enrolled, setup, teardown),
        cmocka_unit_test_setup_teardown(users_lists_only_enrolled_state_files, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_updates_are_not_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_enrollment_leaves_one_valid_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(opener_waiting_on_a_removed_file_sees_no_enrollment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lock_held_by_stopped_process_fails_closed_within_deadline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(torn_newer_slot_falls_back_to_the_last_good_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failed_write_leaves_the_previous_state, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_enrollment_leaves_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(home_layout_creates_a_file_owned_by_the_user, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(home_layout_refuses_a_root_owned_file, setup, teardown),
        cmocka_unit_test_setup_teardown(home_layout_refuses_a_group_readable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(home_layout_refuses_a_directory_others_can_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(home_layout_checks_access_as_the_user, setup, teardown),
        cmocka_unit_test_setup_teardown(home_layout_refuses_unknown_users_and_bad_templates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(enrolled_says_whether_a_record_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(
            enrolled_counts_unsafe_or_corrupt_files_and_open_refuses_them, setup, teardown),
        cmocka_unit_test_setup_teardown(open_after_enrolled_checks_the_directory_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(enrolled_refuses_unsafe_names_and_directories, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            home_layout_enrolled_checks_as_the_user_and_knows_no_unknown_users, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
