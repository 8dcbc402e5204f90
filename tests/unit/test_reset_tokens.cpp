// SPDX-License-Identifier: Apache-2.0
// Password-reset tokens: the selector.verifier format, and the file store's token entries
// (single use, durability layout, ownership checks, per-user removal, expiry pruning).
// Runs as root (it checks root ownership), each test in its own temporary directory.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "totp/file_lock.hpp"
#include "totp/reset_token.hpp"
#include "totp/store.hpp"

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

constexpr std::int64_t kExpires = 1900000000;

struct Fixture {
    std::string dir;  // the state directory (0700 root)
    std::unique_ptr<totp::ResetTokenStore> store;

    std::string token_dir() const { return dir + "/.reset-tokens"; }
};

int setup(void** context) {
    char pattern[] = "/tmp/totp-reset-tokens-XXXXXX";
    if (::mkdtemp(pattern) == nullptr || ::chmod(pattern, 0700) != 0) return -1;
    auto* fixture = new Fixture;
    fixture->dir = pattern;
    fixture->store = totp::make_file_reset_token_store({fixture->dir, ""});
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

totp::IssuedResetToken issue(const std::string& user, std::int64_t expires = kExpires) {
    totp::Result<totp::IssuedResetToken> issued = totp::issue_reset_token(user, expires);
    assert_true(issued.ok());
    return std::move(*issued);
}

totp::IssuedResetToken put(totp::ResetTokenStore& store, const std::string& user,
                           std::int64_t expires = kExpires) {
    totp::IssuedResetToken issued = issue(user, expires);
    const totp::Status stored = store.put_reset_token(issued.selector, issued.entry);
    if (!stored.ok()) print_error("put_reset_token: %s\n", stored.error().message.c_str());
    assert_true(stored.ok());
    return issued;
}

bool is_stored(totp::ResetTokenStore& store, const std::string& selector) {
    totp::Result<totp::ResetTokenEntry> found = store.find_reset_token(selector);
    if (!found.ok()) assert_int_equal(found.error().code, Errc::not_found);
    return found.ok();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

static void issued_token_parses_and_matches_its_entry(void**) {
    const totp::IssuedResetToken issued = issue("alice");
    assert_int_equal(issued.text.size(), totp::kResetTokenLength);
    assert_true(issued.text.view().starts_with(issued.selector + "."));
    const auto parts = totp::parse_reset_token(issued.text.view());
    assert_true(parts.has_value());
    assert_string_equal(parts->selector.c_str(), issued.selector.c_str());
    assert_true(totp::reset_token_matches(issued.entry, *parts));
    assert_string_equal(issued.entry.user.c_str(), "alice");
    assert_true(issued.entry.expires == kExpires);
}

static void token_with_another_verifier_does_not_match(void**) {
    const totp::IssuedResetToken issued = issue("alice");
    std::string altered(issued.text.view());
    altered.back() = altered.back() == '0' ? '1' : '0';
    const auto parts = totp::parse_reset_token(altered);
    assert_true(parts.has_value());
    assert_false(totp::reset_token_matches(issued.entry, *parts));

    const totp::IssuedResetToken other = issue("alice");
    assert_string_not_equal(other.selector.c_str(), issued.selector.c_str());
    assert_false(
        totp::reset_token_matches(issued.entry, *totp::parse_reset_token(other.text.view())));
}

static void malformed_tokens_are_refused(void**) {
    const std::string good(issue("alice").text.view());
    assert_true(totp::parse_reset_token(good).has_value());
    std::string upper = good;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::vector<std::string> bad = {
        "",
        good.substr(1),
        good + "0",
        upper,
        std::string(good).replace(24, 1, "-"),
        std::string(good).replace(3, 1, "g"),
        std::string(good).replace(40, 1, "."),
        "../../../../etc/shadow" + std::string(good.size() - 22, 'a'),
    };
    for (const std::string& text : bad) {
        assert_false(totp::parse_reset_token(text).has_value());
    }
}

static void entry_text_round_trips_and_edits_are_detected(void**) {
    const totp::IssuedResetToken issued = issue("alice");
    totp::Result<std::string> text = totp::encode_reset_entry(issued.entry);
    assert_true(text.ok());
    totp::Result<totp::ResetTokenEntry> decoded = totp::decode_reset_entry(*text);
    assert_true(decoded.ok());
    assert_string_equal(decoded->user.c_str(), "alice");
    assert_true(decoded->expires == kExpires);
    assert_memory_equal(decoded->verifier_hash.data(), issued.entry.verifier_hash.data(), 32);

    std::string edited = *text;
    edited.replace(edited.find("user=alice"), 10, "user=mallo");
    totp::Result<totp::ResetTokenEntry> refused = totp::decode_reset_entry(edited);
    assert_false(refused.ok());
    assert_int_equal(refused.error().code, Errc::corrupt);
    assert_false(totp::decode_reset_entry(text->substr(0, text->size() - 1)).ok());
}

static void stored_token_is_found_and_kept_only_as_a_hash(void** context) {
    Fixture& f = fixture_of(context);
    const totp::IssuedResetToken issued = put(*f.store, "alice");

    totp::Result<totp::ResetTokenEntry> found = f.store->find_reset_token(issued.selector);
    assert_true(found.ok());
    assert_string_equal(found->user.c_str(), "alice");
    assert_true(totp::reset_token_matches(*found, *totp::parse_reset_token(issued.text.view())));
    assert_true(is_stored(*f.store, issued.selector));  // finding does not use it up

    struct stat st {};
    assert_int_equal(::lstat(f.token_dir().c_str(), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, 0);
    const std::string path = f.token_dir() + "/" + issued.selector;
    assert_int_equal(::lstat(path.c_str(), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 0);
    const std::string content = read_file(path);
    const std::string verifier(issued.text.view().substr(totp::kResetSelectorHexLength + 1));
    assert_true(content.find(verifier) == std::string::npos);

    // The token directory never shows up as an enrolled user.
    totp::Result<std::vector<std::string>> users = totp::make_file_store({f.dir, ""})->users();
    assert_true(users.ok());
    assert_true(users->empty());
}

static void taken_token_is_gone(void** context) {
    Fixture& f = fixture_of(context);
    const totp::IssuedResetToken issued = put(*f.store, "alice");
    totp::Result<totp::ResetTokenEntry> taken = f.store->take_reset_token(issued.selector);
    assert_true(taken.ok());
    assert_string_equal(taken->user.c_str(), "alice");

    totp::Result<totp::ResetTokenEntry> again = f.store->take_reset_token(issued.selector);
    assert_false(again.ok());
    assert_int_equal(again.error().code, Errc::not_found);
    assert_false(is_stored(*f.store, issued.selector));
    assert_true(std::filesystem::is_empty(f.token_dir()));
}

static void concurrent_takers_get_the_token_once(void** context) {
    Fixture& f = fixture_of(context);
    const totp::IssuedResetToken issued = put(*f.store, "alice");
    constexpr int kTakers = 16;
    std::vector<pid_t> pids;
    for (int i = 0; i < kTakers; ++i) {
        const pid_t pid = ::fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            auto store = totp::make_file_reset_token_store({f.dir, ""});
            totp::Result<totp::ResetTokenEntry> taken = store->take_reset_token(issued.selector);
            if (taken.ok()) ::_exit(0);
            ::_exit(taken.error().code == Errc::not_found ? 1 : 2);
        }
        pids.push_back(pid);
    }
    int winners = 0;
    for (pid_t pid : pids) {
        int status = 0;
        assert_int_equal(::waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 2);
        if (WEXITSTATUS(status) == 0) ++winners;
    }
    assert_int_equal(winners, 1);
}

// A process stopped while it holds a token's lock (the service's monitor, suspended by an
// administrator's Ctrl-Z) delays the next taker by the lock deadline at most: the taker then
// fails with Errc::busy and the token stays for later.
static void token_locked_by_stopped_process_fails_within_deadline(void** context) {
    Fixture& f = fixture_of(context);
    const totp::IssuedResetToken issued = put(*f.store, "alice");
    const std::string path = f.token_dir() + "/" + issued.selector;
    const pid_t holder = ::fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a failed test must not leave it behind
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
        ::raise(SIGSTOP);
        ::_exit(0);
    }
    int status = 0;
    assert_int_equal(::waitpid(holder, &status, WUNTRACED), holder);
    assert_true(WIFSTOPPED(status));
    {
        ::alarm(30);  // fails the test rather than hanging the suite
        const auto started = std::chrono::steady_clock::now();
        totp::Result<totp::ResetTokenEntry> taken = f.store->take_reset_token(issued.selector);
        const auto waited = std::chrono::steady_clock::now() - started;
        ::alarm(0);
        assert_false(taken.ok());
        assert_int_equal(taken.error().code, Errc::busy);
        assert_non_null(std::strstr(taken.error().message.c_str(), "locked by another process"));
        assert_true(waited >= totp::kLockDeadline);
        assert_true(waited < totp::kLockDeadline + std::chrono::seconds(5));
    }
    assert_int_equal(::kill(holder, SIGCONT), 0);
    assert_int_equal(::waitpid(holder, &status, 0), holder);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(f.store->take_reset_token(issued.selector).ok());
}

static void duplicate_selector_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    const totp::IssuedResetToken issued = put(*f.store, "alice");
    totp::ResetTokenEntry other = issue("bob").entry;
    const totp::Status stored = f.store->put_reset_token(issued.selector, other);
    assert_false(stored.ok());
    assert_int_equal(stored.error().code, Errc::busy);
    assert_string_equal(f.store->find_reset_token(issued.selector)->user.c_str(), "alice");
}

static void dropping_a_users_tokens_keeps_the_others(void** context) {
    Fixture& f = fixture_of(context);
    const auto alice1 = put(*f.store, "alice");
    const auto alice2 = put(*f.store, "alice");
    const auto bob = put(*f.store, "bob");
    assert_true(f.store->drop_reset_tokens("alice").ok());
    assert_false(is_stored(*f.store, alice1.selector));
    assert_false(is_stored(*f.store, alice2.selector));
    assert_true(is_stored(*f.store, bob.selector));
}

static void pruning_removes_only_expired_tokens(void** context) {
    Fixture& f = fixture_of(context);
    const auto old = put(*f.store, "alice", 1000);
    const auto fresh = put(*f.store, "alice", 3000);
    assert_true(f.store->prune_reset_tokens(2000).ok());
    assert_false(is_stored(*f.store, old.selector));
    assert_true(is_stored(*f.store, fresh.selector));
}

static void operations_without_a_token_directory_succeed_or_find_nothing(void** context) {
    Fixture& f = fixture_of(context);
    const std::string selector = issue("alice").selector;
    assert_false(is_stored(*f.store, selector));
    assert_int_equal(f.store->take_reset_token(selector).error().code, Errc::not_found);
    assert_true(f.store->drop_reset_tokens("alice").ok());
    assert_true(f.store->prune_reset_tokens(kExpires).ok());
}

static void selectors_that_are_not_hex_are_refused(void** context) {
    Fixture& f = fixture_of(context);
    const totp::ResetTokenEntry entry = issue("alice").entry;
    for (const char* selector : {"../alice", "", ".reset-tokens", "0123456789abcdef0123456/",
                                 "0123456789ABCDEF01234567"}) {
        assert_int_equal(f.store->put_reset_token(selector, entry).error().code,
                         Errc::invalid_argument);
        assert_int_equal(f.store->find_reset_token(selector).error().code, Errc::invalid_argument);
        assert_int_equal(f.store->take_reset_token(selector).error().code, Errc::invalid_argument);
    }
}

static void unsafe_token_files_are_refused(void** context) {
    Fixture& f = fixture_of(context);
    const auto readable = put(*f.store, "alice");
    const std::string path = f.token_dir() + "/" + readable.selector;
    assert_int_equal(::chmod(path.c_str(), 0644), 0);
    assert_int_equal(f.store->find_reset_token(readable.selector).error().code, Errc::unsafe);
    assert_int_equal(f.store->take_reset_token(readable.selector).error().code, Errc::unsafe);

    const auto target = put(*f.store, "alice");
    const std::string link_selector = issue("alice").selector;
    const std::string link = f.token_dir() + "/" + link_selector;
    assert_int_equal(::symlink((f.token_dir() + "/" + target.selector).c_str(), link.c_str()), 0);
    assert_int_equal(f.store->find_reset_token(link_selector).error().code, Errc::unsafe);

    const auto foreign = put(*f.store, "alice");
    assert_int_equal(::chown((f.token_dir() + "/" + foreign.selector).c_str(), 65534, 65534), 0);
    assert_int_equal(f.store->find_reset_token(foreign.selector).error().code, Errc::unsafe);
}

static void token_directory_open_to_others_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    const auto issued = put(*f.store, "alice");
    assert_int_equal(::chmod(f.token_dir().c_str(), 0755), 0);
    assert_int_equal(f.store->find_reset_token(issued.selector).error().code, Errc::unsafe);
    assert_int_equal(f.store->put_reset_token(issue("alice").selector, issued.entry).error().code,
                     Errc::unsafe);
}

static void corrupt_token_file_is_refused(void** context) {
    Fixture& f = fixture_of(context);
    const auto issued = put(*f.store, "alice");
    const std::string path = f.token_dir() + "/" + issued.selector;
    std::string content = read_file(path);
    content[content.find("expires=") + 8] ^= 1;
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(::write(fd, content.data(), content.size()),
                     static_cast<ssize_t>(content.size()));
    ::close(fd);
    assert_int_equal(f.store->find_reset_token(issued.selector).error().code, Errc::corrupt);
    assert_int_equal(f.store->take_reset_token(issued.selector).error().code, Errc::corrupt);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issued_token_parses_and_matches_its_entry),
        cmocka_unit_test(token_with_another_verifier_does_not_match),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(entry_text_round_trips_and_edits_are_detected),
        cmocka_unit_test_setup_teardown(stored_token_is_found_and_kept_only_as_a_hash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(taken_token_is_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_takers_get_the_token_once, setup, teardown),
        cmocka_unit_test_setup_teardown(token_locked_by_stopped_process_fails_within_deadline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_selector_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(dropping_a_users_tokens_keeps_the_others, setup, teardown),
        cmocka_unit_test_setup_teardown(pruning_removes_only_expired_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(
            operations_without_a_token_directory_succeed_or_find_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(selectors_that_are_not_hex_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(unsafe_token_files_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(token_directory_open_to_others_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_token_file_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
