// SPDX-License-Identifier: Apache-2.0
// Sliding-window limits used for requests and failures per address and mails per account.
#include <malloc.h>

#include <algorithm>
#include <cstddef>
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

// Keys are compact and opaque: what matters is which addresses share one.
static void ipv4_mapped_ipv6_counts_as_the_ipv4_address(void**) {
    const auto key = [](const char* ip) { return *resetd::address_key(ip); };
    assert_true(key("::ffff:192.0.2.7") == key("192.0.2.7"));
    assert_true(key("::FFFF:c000:0207") == key("192.0.2.7"));
    assert_true(key("::ffff:192.0.2.8") != key("192.0.2.7"));
    assert_true(key("192.0.2.7") != key("192.0.2.8"));
    assert_true(key("::192.0.2.7") != key("192.0.2.7"));  // IPv4-compatible is IPv6 (::/64)
}

static void ipv6_counts_by_its_64_and_by_its_48_when_the_table_is_crowded(void**) {
    const auto key = [](const char* ip, bool crowded) { return *resetd::address_key(ip, crowded); };
    assert_true(key("2001:db8:1:2:3::9", false) == key("2001:db8:1:2:ffff::1", false));
    assert_true(key("2001:db8:1:2:3::9", false) != key("2001:db8:1:3::9", false));
    assert_true(key("2001:db8:1:2:3::9", true) == key("2001:db8:1:ffff::1", true));
    assert_true(key("2001:db8:1:2:3::9", true) != key("2001:db8:2:2:3::9", true));
    assert_true(key("192.0.2.7", true) == key("192.0.2.7", false));
    assert_true(key("192.0.2.7", true) != key("192.0.2.8", true));
    assert_false(resetd::address_key("not-an-address").has_value());
    assert_false(resetd::address_key("192.0.2.7/24").has_value());
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

// The event times wrap around their ring and the ring grows (10 inside the entry, then 16, 32,
// ... on the heap) while old events leave: quiet stretches move the ring's start, bursts that
// grow from round to round then make it grow from there. Every answer must match a plain list
// of the accepted events of the last `window` seconds, whatever the clock reads (times are
// kept in 32 bits).
static void check_sliding_window(int limit, std::int64_t start) {
    constexpr int kWindow = 50;
    resetd::RateLimiter limiter(limit, kWindow);
    std::vector<std::int64_t> accepted;
    std::int64_t now = start;
    const auto check = [&] {
        std::erase_if(accepted, [&](std::int64_t t) { return t <= now - kWindow; });
        const bool room = accepted.size() < static_cast<std::size_t>(limit);
        assert_int_equal(limiter.allow("a", now), room);
        if (room) accepted.push_back(now);
    };
    // Quiet stretches (two events in any window) move the ring's start round; each burst
    // (4, 8, ..., 128 events at once) then fills it from there and makes it grow.
    for (int round = 1; round <= 6; ++round) {
        for (int quiet = 0; quiet < 7; ++quiet) {
            now += 30;
            check();
        }
        for (int burst = 0; burst < (2 << round); ++burst) check();
    }
}

static void a_sliding_window_stays_exact_over_bursts_and_wraps(void**) {
    for (std::int64_t start : {1000LL, 1'700'000'000LL, 5'000'000'000LL}) {
        for (int limit : {1, 3, 5, 6, 10, 11, 40, 200}) check_sliding_window(limit, start);
    }
}

// Account names (mails per account) are longer than an address key and kept apart from the
// entry: they must count apart however alike they are, and move with their entry when a
// full table evicts and compacts.
static void long_keys_count_apart_through_eviction(void**) {
    resetd::RateLimiter limiter(2, 3600, 100);
    const auto name = [](int i) { return "account-name-" + std::to_string(i); };
    for (int i = 0; i < 1000; ++i) {
        assert_true(limiter.allow(name(i), 1000 + i));
        assert_true(limiter.allow(name(i), 1000 + i));
        assert_false(limiter.allow(name(i), 1000 + i));
        assert_true(limiter.size() <= 100);
    }
    for (int i = 990; i < 1000; ++i) assert_false(limiter.allow(name(i), 2000));
    assert_true(limiter.allow(std::string("short\0", 6), 2000));
    assert_true(limiter.allow("short", 2000));
    assert_true(limiter.allow("short", 2000));
    assert_false(limiter.allow("short", 2000));
}

static std::string ipv4(int n) {
    return std::to_string(10 + n / 16777216) + "." + std::to_string(n / 65536 % 256) + "." +
           std::to_string(n / 256 % 256) + "." + std::to_string(n % 256);
}

static std::string ipv6(int n) {
    char ip[64];
    std::snprintf(ip, sizeof ip, "2001:db8:%x:%x::1", n / 65536, n % 65536);
    return ip;
}

static std::size_t heap_in_use() {
    const struct mallinfo2 info = ::mallinfo2();
    return info.uordblks + info.hblkhd;
}

// The monitor keeps two limiters keyed by address; both full must fit the service's memory
// budget (both processes under 20 MB together, bench/reset_service.sh): at most 1.25 MiB each,
// whatever the flood: IPv4 or IPv6 addresses, each using up the default limit.
static void a_full_address_limiter_takes_at_most_1_25_mib(void**) {
#if defined(__SANITIZE_ADDRESS__)
    skip();  // AddressSanitizer's allocator does not report to mallinfo2()
#endif
    const std::size_t before = heap_in_use();
    {
        resetd::RateLimiter limiter(10, 3600);
        std::size_t most = 0;
        for (int i = 0; i < 70000; ++i) {
            const std::string ip = i % 2 == 0 ? ipv4(i) : ipv6(i);
            for (int event = 0; event < 10; ++event) {
                limiter.allow(*resetd::address_key(ip, limiter.crowded()), 1000 + i / 100);
            }
            if (i % 1000 == 0) most = std::max(most, heap_in_use() - before);
        }
        most = std::max(most, heap_in_use() - before);
        std::printf("full limiter: %zu keys, %zu bytes of heap\n", limiter.size(), most);
        assert_true(most >= limiter.size() * sizeof(resetd::KeyEvents));  // the entries count
        assert_true(most <= 1280 * 1024);
    }
    assert_true(heap_in_use() <= before);  // all of it belonged to the limiter
}

// An address that used up its limit stays limited however many new addresses arrive (the
// table forgets the one-request addresses first), and every new address is answered.
static void an_abuser_stays_limited_while_200000_fresh_addresses_each_pass(void**) {
    resetd::RateLimiter limiter(10, 3600);
    const std::string abuser = *resetd::address_key("192.0.2.66");
    for (int i = 0; i < 10; ++i) assert_true(limiter.allow(abuser, 1000));
    for (int i = 0; i < 200000; ++i) {
        const std::int64_t now = 1001 + i / 100;
        assert_true(limiter.allow(*resetd::address_key(ipv4(i), limiter.crowded()), now));
        if (i % 1000 == 0) assert_false(limiter.allow(abuser, now));
    }
    assert_false(limiter.allow(abuser, 3000));
    assert_true(limiter.allow(abuser, 4600));  // until its own events leave the window
}

// Evicting an abuser must cost a flood more than it gains: addresses that stop one short of
// the limit are forgotten before the one that reached it.
static void an_abuser_outlasts_addresses_one_short_of_the_limit(void**) {
    resetd::RateLimiter limiter(5, 3600);
    const std::string abuser = *resetd::address_key("2001:db8:66::1");
    for (int i = 0; i < 5; ++i) assert_true(limiter.allow(abuser, 1000));
    for (int i = 0; i < 60000; ++i) {
        const std::string key = *resetd::address_key(ipv4(i), limiter.crowded());
        for (int event = 0; event < 4; ++event) assert_true(limiter.allow(key, 1001 + i / 100));
    }
    assert_false(limiter.allow(abuser, 1700));
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
        cmocka_unit_test(long_keys_count_apart_through_eviction),
        cmocka_unit_test(a_full_address_limiter_takes_at_most_1_25_mib),
        cmocka_unit_test(an_abuser_stays_limited_while_200000_fresh_addresses_each_pass),
        cmocka_unit_test(an_abuser_outlasts_addresses_one_short_of_the_limit),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
