// Sliding-window limits used for requests and failures per address and mails per account.
#include <string>

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

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_allows_that_many_events_per_window),
        cmocka_unit_test(events_leave_the_window_one_by_one),
        cmocka_unit_test(refused_events_are_not_counted),
        cmocka_unit_test(exhausted_and_record_count_separately),
        cmocka_unit_test(full_table_refuses_new_keys_until_old_ones_expire),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
