// SPDX-License-Identifier: Apache-2.0
// Refusals under a flood must not write a log line each: a throttle lets a few through per
// interval and counts the rest, so the next line that goes out can say how many were held.
#include <cstdint>

#include "cmocka.hpp"
#include "log.hpp"

static void a_flood_writes_only_the_burst_per_interval(void**) {
    resetd::LogThrottle throttle("test lines", 3, 60);
    int written = 0;
    for (int i = 0; i < 10000; ++i) written += throttle.admit(1000 + i / 1000) ? 1 : 0;
    assert_int_equal(written, 3);
}

static void the_first_line_after_the_interval_reports_what_was_held_back(void**) {
    resetd::LogThrottle throttle("test lines", 2, 60);
    assert_true(throttle.admit(1000));
    assert_true(throttle.admit(1001));
    for (int i = 0; i < 50; ++i) assert_false(throttle.admit(1002));
    assert_int_equal(throttle.held_back(), 50);
    assert_false(throttle.admit(1059));
    assert_true(throttle.admit(1060));
    // Reported with that line, then counted from zero again.
    assert_int_equal(throttle.last_held_back(), 51);
    assert_int_equal(throttle.held_back(), 0);
}

static void quiet_periods_write_every_line(void**) {
    resetd::LogThrottle throttle("test lines", 1, 60);
    for (int i = 0; i < 20; ++i) {
        assert_true(throttle.admit(1000 + 60 * i));
        assert_int_equal(throttle.last_held_back(), 0);
    }
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flood_writes_only_the_burst_per_interval),
        cmocka_unit_test(the_first_line_after_the_interval_reports_what_was_held_back),
        cmocka_unit_test(quiet_periods_write_every_line),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
