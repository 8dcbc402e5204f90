// SPDX-License-Identifier: Apache-2.0
// Sliding-window limits used for requests and failures per address and mails per account.
#include <cstdint>
#include <cstdio>
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

// A flood of distinct addresses (a /48, or anything else) must not turn into refusals for
// everyone: the table stays bounded and a fresh client's first request is answered.
static void a_full_table_still_allows_a_fresh_key(void**) {
    resetd::RateLimiter limiter(5, 3600, 1000);
    for (int i = 0; i < 5000; ++i) limiter.allow("flood-" + std::to_string(i), 1000);
    assert_true(limiter.allow("fresh", 1001));
    assert_true(limiter.allow("fresh", 1002));
}

// The reproduction of the outage: 70 000 addresses against the service's default capacity.
static void a_flood_of_70000_addresses_leaves_the_default_table_open(void**) {
    resetd::RateLimiter limiter(10, 3600);
    for (int i = 0; i < 70000; ++i) {
        limiter.allow(
            *resetd::address_key("10." + std::to_string(i / 65536) + "." +
                                 std::to_string(i / 256 % 256) + "." + std::to_string(i % 256)),
            1000);
    }
    assert_true(limiter.size() <= 65536);
    assert_true(limiter.allow(*resetd::address_key("192.0.2.1"), 1001));
}

static void the_table_never_holds_more_than_its_capacity(void**) {
    resetd::RateLimiter limiter(5, 3600, 1000);
    for (int i = 0; i < 5000; ++i) {
        limiter.allow("flood-" + std::to_string(i), 1000 + i / 100);
        assert_true(limiter.size() <= 1000);
    }
}

// Evicting must forget the keys that matter least: an address that used up its limit keeps
// its count however many one-request addresses arrive after it.
static void a_key_with_many_events_outlives_one_event_keys(void**) {
    resetd::RateLimiter limiter(5, 3600, 100);
    for (int i = 0; i < 5; ++i) assert_true(limiter.allow("busy", 1000));
    for (int i = 0; i < 1000; ++i) limiter.allow("once-" + std::to_string(i), 1001);
    assert_false(limiter.allow("busy", 1002));
}

static void ipv4_mapped_ipv6_counts_as_the_ipv4_address(void**) {
    assert_string_equal(resetd::address_key("::ffff:192.0.2.7")->c_str(), "192.0.2.7");
    assert_string_equal(resetd::address_key("::FFFF:c000:0207")->c_str(), "192.0.2.7");
    assert_string_equal(resetd::address_key("192.0.2.7")->c_str(), "192.0.2.7");
    assert_string_not_equal(resetd::address_key("::ffff:192.0.2.8")->c_str(), "192.0.2.7");
}

static void ipv6_counts_by_its_64_and_by_its_48_when_the_table_is_crowded(void**) {
    assert_string_equal(resetd::address_key("2001:db8:1:2:3::9")->c_str(), "2001:db8:1:2::/64");
    assert_string_equal(resetd::address_key("2001:db8:1:2:3::9", true)->c_str(), "2001:db8:1::/48");
    assert_string_equal(resetd::address_key("192.0.2.7", true)->c_str(), "192.0.2.7");
    assert_false(resetd::address_key("not-an-address").has_value());
}

// A /48 holds 65 536 /64s: once they crowd the table, further ones share one count.
static void a_flood_from_one_48_is_limited_once_the_table_is_crowded(void**) {
    resetd::RateLimiter limiter(5, 3600, 1000);
    int allowed_late = 0;
    for (int i = 0; i < 3000; ++i) {
        char ip[64];
        std::snprintf(ip, sizeof ip, "2001:db8:7:%x::1", i);
        const bool allowed = limiter.allow(*resetd::address_key(ip, limiter.crowded()), 1000);
        if (i >= 2000 && allowed) ++allowed_late;
    }
    assert_int_equal(allowed_late, 0);
    assert_true(limiter.allow(*resetd::address_key("2001:db8:8::1", limiter.crowded()), 1000));
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
        cmocka_unit_test(a_full_table_still_allows_a_fresh_key),
        cmocka_unit_test(a_flood_of_70000_addresses_leaves_the_default_table_open),
        cmocka_unit_test(the_table_never_holds_more_than_its_capacity),
        cmocka_unit_test(a_key_with_many_events_outlives_one_event_keys),
        cmocka_unit_test(ipv4_mapped_ipv6_counts_as_the_ipv4_address),
        cmocka_unit_test(ipv6_counts_by_its_64_and_by_its_48_when_the_table_is_crowded),
        cmocka_unit_test(a_flood_from_one_48_is_limited_once_the_table_is_crowded),
        cmocka_unit_test(a_sliding_window_stays_exact_over_bursts_and_wraps),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
