// SPDX-License-Identifier: Apache-2.0
// Password-reset tokens in the PostgreSQL store, against a real server: the ResetTokenStore
// contract of store.hpp (put/find/take/drop/prune), including one-shot use across processes
// and calls from several threads at once.
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "pg_fixture.hpp"
#include "totp/reset_token.hpp"

// cmocka needs these first, and its macros must come after the C++ headers.
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

using pg_fixture::must;

constexpr std::int64_t kNow = fixture::kEpoch;
constexpr int kTakers = 8;

std::string dsn() {
    return "postgresql://postgres@127.0.0.1:" + pg_fixture::port() + "/postgres?sslmode=disable";
}

// A fresh token for `user`, stored; returns it (its text is what a mail link would hold).
totp::IssuedResetToken put(totp::ResetTokenStore& store, const std::string& user,
                           std::int64_t expires) {
    auto issued = totp::issue_reset_token(user, expires);
    must(issued.ok(), "issue_reset_token");
    const totp::Status stored = store.put_reset_token(issued->selector, issued->entry);
    if (!stored) std::fprintf(stderr, "%s\n", stored.error().message.c_str());
    must(stored.ok(), "put_reset_token");
    return std::move(*issued);
}

void assert_code(const totp::Error& error, totp::Errc code) {
    assert_int_equal(static_cast<int>(error.code), static_cast<int>(code));
}

void assert_entry_is_the_token(const totp::ResetTokenEntry& entry,
                               const totp::IssuedResetToken& token) {
    assert_string_equal(entry.user.c_str(), token.entry.user.c_str());
    assert_int_equal(entry.expires, token.entry.expires);
    const auto parts = totp::parse_reset_token(token.text.view());
    assert_true(parts.has_value());
    assert_true(totp::reset_token_matches(entry, *parts));
}

void a_stored_token_is_found_without_being_used_up(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    for (int i = 0; i < 2; ++i) {
        auto found = store->find_reset_token(token.selector);
        assert_true(found.ok());
        assert_entry_is_the_token(*found, token);
    }
    // Another connection (another server) sees it too.
    auto elsewhere = pg_fixture::open_token_store(dsn())->find_reset_token(token.selector);
    assert_true(elsewhere.ok());
    assert_entry_is_the_token(*elsewhere, token);
}

void a_taken_selector_cannot_be_stored_again(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    totp::ResetTokenEntry other = token.entry;
    other.user = "bob";
    const totp::Status again = store->put_reset_token(token.selector, other);
    assert_false(again.ok());
    assert_code(again.error(), totp::Errc::busy);
    assert_string_equal(store->find_reset_token(token.selector)->user.c_str(), "alice");
}

void a_token_can_be_taken_once(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    auto taken = store->take_reset_token(token.selector);
    assert_true(taken.ok());
    assert_entry_is_the_token(*taken, token);
    auto again = store->take_reset_token(token.selector);
    assert_false(again.ok());
    assert_code(again.error(), totp::Errc::not_found);
    assert_code(store->find_reset_token(token.selector).error(), totp::Errc::not_found);
}

void processes_taking_one_token_at_once_get_it_exactly_once(void**) {
    for (int round = 0; round < 3; ++round) {
        const totp::IssuedResetToken token =
            put(*pg_fixture::open_token_store(dsn()), "alice", kNow);
        const int winners = fixture::race(kTakers, [&](int) {
            return pg_fixture::open_token_store(dsn())->take_reset_token(token.selector).ok();
        });
        assert_int_equal(winners, 1);
    }
}

void prune_removes_only_tokens_expired_before_now(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken expired = put(*store, "alice", kNow - 1);
    const totp::IssuedResetToken expiring_now = put(*store, "alice", kNow);
    const totp::IssuedResetToken live = put(*store, "bob", kNow + 600);
    assert_true(store->prune_reset_tokens(kNow).ok());
    assert_code(store->find_reset_token(expired.selector).error(), totp::Errc::not_found);
    assert_true(store->find_reset_token(expiring_now.selector).ok());
    assert_true(store->find_reset_token(live.selector).ok());
}

void drop_removes_every_token_of_one_user_only(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    std::vector<totp::IssuedResetToken> alices;
    alices.push_back(put(*store, "alice", kNow + 600));
    alices.push_back(put(*store, "alice", kNow + 900));
    const totp::IssuedResetToken bobs = put(*store, "bob", kNow + 600);
    assert_true(store->drop_reset_tokens("alice").ok());
    for (const totp::IssuedResetToken& token : alices) {
        assert_code(store->find_reset_token(token.selector).error(), totp::Errc::not_found);
    }
    assert_true(store->find_reset_token(bobs.selector).ok());
}

void a_malformed_selector_is_refused(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    for (const char* selector :
         {"", "ABCDEF0123456789ABCDEF01", "' OR 1=1 --", "0123456789abcdef01234567x"}) {
        assert_code(store->find_reset_token(selector).error(), totp::Errc::invalid_argument);
        assert_code(store->take_reset_token(selector).error(), totp::Errc::invalid_argument);
    }
}

void token_calls_fail_while_the_database_is_down(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    pg_fixture::server("stop");
    auto during = store->take_reset_token(token.selector);
    pg_fixture::server("start");
    assert_false(during.ok());
    assert_code(during.error(), totp::Errc::unavailable);
    assert_true(store->take_reset_token(token.selector).ok());  // still there
}

// totp-resetd keeps its store for the life of the process: a connection the server closed
// in between (a restart, an idle timeout) is made again, not reported as a failure.
void a_database_restart_between_calls_goes_unnoticed(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    pg_fixture::server("stop");
    pg_fixture::server("start");
    auto found = store->find_reset_token(token.selector);
    if (!found) std::fprintf(stderr, "%s\n", found.error().message.c_str());
    assert_true(found.ok());
    assert_entry_is_the_token(*found, token);
}

// The server ends a session of the store's that idles for 5 s (idle_session_timeout): the
// next call finds its connection closed and makes it again.
void a_session_ended_for_idling_is_made_again(void**) {
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    sleep(8);
    const std::string sessions = pg_fixture::query(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "AND pid <> pg_backend_pid()");
    assert_string_equal(sessions.c_str(), "0\n");
    auto found = store->find_reset_token(token.selector);
    if (!found) std::fprintf(stderr, "%s\n", found.error().message.c_str());
    assert_true(found.ok());
    assert_entry_is_the_token(*found, token);
}

// A call the database does not answer within the store's deadline (here: its commit waits
// for a synchronous standby that does not exist) closes the kept connection: the next call
// makes a new one, rather than totp-resetd failing every call until it is restarted.
void a_call_past_the_deadline_does_not_fail_the_calls_after_it(void**) {
    const totp::IssuedResetToken token = put(*pg_fixture::open_token_store(dsn()), "alice", kNow);
    pg_fixture::server("sql", "ALTER SYSTEM SET synchronous_standby_names = 'gone'");
    pg_fixture::server("sql", "SELECT pg_reload_conf()");
    // New sessions have it once the postmaster has read it again.
    for (int i = 0; i < 100; ++i) {
        if (pg_fixture::query("SHOW synchronous_standby_names") == "gone\n") break;
        usleep(50 * 1000);
    }
    auto store = pg_fixture::open_token_store(dsn());
    auto unconfirmed = totp::issue_reset_token("bob", kNow);
    must(unconfirmed.ok(), "issue_reset_token");
    const totp::Status stuck = store->put_reset_token(unconfirmed->selector, unconfirmed->entry);
    pg_fixture::server("sql", "ALTER SYSTEM RESET synchronous_standby_names");
    pg_fixture::server("sql", "SELECT pg_reload_conf()");
    assert_false(stuck.ok());
    auto found = store->find_reset_token(token.selector);
    if (!found) std::fprintf(stderr, "%s\n", found.error().message.c_str());
    assert_true(found.ok());
}

// totp-resetd calls one token store from its request thread and its mail worker at once:
// every call of both succeeds (two threads on one connection would interleave their
// messages to the server).
void two_threads_calling_one_store_at_once_both_succeed(void**) {
    constexpr int kCalls = 300;
    auto store = pg_fixture::open_token_store(dsn());
    const totp::IssuedResetToken token = put(*store, "alice", kNow + 600);
    std::atomic<int> failures{0};
    const auto look_up = [&] {
        for (int i = 0; i < kCalls; ++i) {
            if (!store->find_reset_token(token.selector).ok()) ++failures;
        }
    };
    std::thread first(look_up);
    std::thread second(look_up);
    first.join();
    second.join();
    assert_int_equal(failures.load(), 0);
}

int reset_tokens(void** state) {
    pg_fixture::server("sql", "DELETE FROM pam_totp_reset_tokens");
    return fixture::reset(state);
}

int group_setup(void** state) {
    pg_fixture::setup(state);
    pg_fixture::create_schema(dsn());
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_stored_token_is_found_without_being_used_up, reset_tokens),
        cmocka_unit_test_setup(a_taken_selector_cannot_be_stored_again, reset_tokens),
        cmocka_unit_test_setup(a_token_can_be_taken_once, reset_tokens),
        cmocka_unit_test_setup(processes_taking_one_token_at_once_get_it_exactly_once,
                               reset_tokens),
        cmocka_unit_test_setup(prune_removes_only_tokens_expired_before_now, reset_tokens),
        cmocka_unit_test_setup(drop_removes_every_token_of_one_user_only, reset_tokens),
        cmocka_unit_test_setup(a_malformed_selector_is_refused, reset_tokens),
        cmocka_unit_test_setup(token_calls_fail_while_the_database_is_down, reset_tokens),
        cmocka_unit_test_setup(a_database_restart_between_calls_goes_unnoticed, reset_tokens),
        cmocka_unit_test_setup(a_session_ended_for_idling_is_made_again, reset_tokens),
        cmocka_unit_test_setup(a_call_past_the_deadline_does_not_fail_the_calls_after_it,
                               reset_tokens),
        cmocka_unit_test_setup(two_threads_calling_one_store_at_once_both_succeed, reset_tokens),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
