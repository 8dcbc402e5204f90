// SPDX-License-Identifier: Apache-2.0
// Sliding-window limits used for requests and failures per address and mails per account.
#include <cstdint>
#include <string>
#include <vector>

#include "cmocka.hpp"
#include "rate_limit.hpp"

static void limit_allows_that_many_events_per_window(void**) {
    resetd::RateLimiter limiter(3, 3600);
    for (int i = 0; i < 3; ++i) assert_true(limiter.allow("a", 1000 + i));
    assert_false(limiter.allow("a", 1010));
    assert_true(limiter.allow("b", 1010));  // keys are independent
}

static void events_leave_the_window_one_by_one(void**) {
    resetd::RateLimiter limiter(2, 100);
    assert_true(limiter.allow("a", 1000));
    assert_true(limiter.allow("a", 1050));
    assert_false(limiter.allow("a", 1099));
    assert_true(limiter.allow("a", 1100));  // the first event left
    assert_false(limiter.allow("a", 1149));
    assert_true(limiter.allow("a", 1150));
}

static void refused_events_are_not_counted(void**) {
    resetd::RateLimiter limiter(1, 100);
    assert_true(limiter.allow("a", 1000));
    for (int i = 0; i < 50; ++i) assert_false(limiter.allow("a", 1001 + i));
    assert_true(limiter.allow("a", 1100));
}

static void exhausted_and_record_count_separately(void**) {
    resetd::RateLimiter limiter(2, 100);
    assert_false(limiter.exhausted("a", 1000));
    limiter.record("a", 1000);
    limiter.record("a", 1001);
    assert_true(limiter.exhausted("a", 1002));
}

static void full_table_refuses_new_keys_until_old_ones_expire(void**) {
    resetd::RateLimiter limiter(5, 100, 2);
    assert_true(limiter.allow("a", 1000));
    assert_true(limiter.allow("b", 1000));
    assert_false(limiter.allow("c", 1050));  // fails closed rather than forgetting a and b
    assert_true(limiter.allow("c", 1100));   // a and b are idle now and make room
}

// The event times wrap around their ring and the ring grows (4, 8, 16, ...) while old
// events leave: quiet stretches move the ring's start, bursts that grow from round to round
// then make it grow from there. Every answer must match a plain list of the accepted events
// of the last `window` seconds.
static void a_sliding_window_stays_exact_over_bursts_and_wraps(void**) {
    constexpr int kWindow = 50;
    for (int limit : {1, 3, 5, 6, 40, 200}) {
        resetd::RateLimiter limiter(limit, kWindow);
        std::vector<std::int64_t> accepted;
        std::int64_t now = 1000;
        const auto check = [&] {
            std::erase_if(accepted, [&](std::int64_t t) { return t <= now - kWindow; });
            const bool room = accepted.size() < static_cast<std::size_t>(limit);
            assert_int_equal(limiter.allow("a", now), room);
            if (room) accepted.push_back(now);
        };
        // Quiet stretches (two events in any window) move the ring's start round; each
        // burst (4, 8, ..., 128 events at once) then fills it from there and makes it grow.
        for (int round = 1; round <= 6; ++round) {
            for (int quiet = 0; quiet < 7; ++quiet) {
                now += 30;
                check();
            }
            for (int burst = 0; burst < (2 << round); ++burst) check();
        }
    }
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_allows_that_many_events_per_window),
        cmocka_unit_test(events_leave_the_window_one_by_one),
        cmocka_unit_test(refused_events_are_not_counted),
        cmocka_unit_test(exhausted_and_record_count_separately),
        cmocka_unit_test(full_table_refuses_new_keys_until_old_ones_expire),
        cmocka_unit_test(a_sliding_window_stays_exact_over_bursts_and_wraps),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
