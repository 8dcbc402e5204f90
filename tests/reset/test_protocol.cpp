// SPDX-License-Identifier: Apache-2.0
// The monitor's side of the privilege split: message framing, and the monitor refusing
// anything outside its three requests before it looks at the values.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cmocka.hpp"
#include "monitor.hpp"
#include "protocol.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"

namespace {

using resetd::Answer;
using resetd::Message;
using resetd::Request;

class FixedClock final : public totp::Clock {
  public:
    std::int64_t now() const override { return 1900000000; }
};

struct Channel {
    int ends[2] = {-1, -1};
    Channel() { assert_int_equal(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ends), 0); }
    ~Channel() {
        ::close(ends[0]);
        ::close(ends[1]);
    }
};

Message request(Request kind, std::vector<std::string_view> fields) {
    return resetd::make_message(static_cast<std::uint8_t>(kind), std::move(fields));
}

struct MonitorFixture {
    std::string dir;
    std::unique_ptr<totp::Store> store;
    std::unique_ptr<totp::ResetTokenStore> tokens;
    FixedClock clock;
    std::unique_ptr<resetd::Monitor> monitor;

    MonitorFixture() {
        char pattern[] = "/tmp/totp-resetd-monitor-XXXXXX";
        assert_non_null(::mkdtemp(pattern));
        dir = pattern;
        store = totp::make_file_store({dir, ""});
        tokens = totp::make_file_reset_token_store({dir, ""});
        resetd::MonitorConfig config;
        config.reset.base_url = "https://reset.example.org/";
        config.reset.requests_per_ip = 2;
        config.reset.failures_per_ip = 2;
        config.site_name = "example";
        monitor = std::make_unique<resetd::Monitor>(std::move(config), *store, *tokens, clock);
    }
    ~MonitorFixture() {
        monitor.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }

    Answer ask(Request kind, std::vector<std::string_view> fields) {
        const std::optional<Message> answer = monitor->answer(request(kind, std::move(fields)));
        assert_true(answer.has_value());
        return static_cast<Answer>(answer->kind);
    }
};

}  // namespace

static void messages_round_trip(void**) {
    const std::string binary("a\0b\r\n", 5);
    const Message sent = request(Request::reset, {"127.0.0.1", "", binary, std::string(3000, 'x')});
    const auto bytes = resetd::encode(sent);
    assert_true(bytes.has_value());
    const auto received = resetd::decode(bytes->view());
    assert_true(received.has_value());
    assert_int_equal(received->kind, static_cast<int>(Request::reset));
    assert_int_equal(received->fields.size(), 4);
    assert_true(received->field(1).empty());
    assert_true(received->field(2) == binary);
    assert_int_equal(received->field(3).size(), 3000);
}

static void malformed_messages_are_refused(void**) {
    assert_false(resetd::decode("").has_value());
    assert_false(resetd::decode(std::string("\x01\x05\x00"
                                            "abc",
                                            6))
                     .has_value());                                        // short
    assert_false(resetd::decode(std::string("\x01\x01", 2)).has_value());  // half a length
    std::string nine_fields("\x01", 1);
    for (int i = 0; i < 9; ++i) nine_fields += std::string("\x00\x00", 2);
    assert_false(resetd::decode(nine_fields).has_value());
    assert_false(resetd::decode(std::string(resetd::kMaxMessageSize + 1, '\0')).has_value());
    assert_false(resetd::encode(request(Request::reset, {std::string(9000, 'x')})).has_value());
}

static void messages_cross_a_socketpair_whole(void**) {
    Channel channel;
    assert_true(resetd::send_message(channel.ends[0], request(Request::check_token, {"::1", "t"})));
    const auto received = resetd::receive_message(channel.ends[1]);
    assert_true(received.has_value());
    assert_true(received->field(0) == "::1");
    assert_true(received->field(1) == "t");
}

static void oversized_datagram_is_refused(void**) {
    Channel channel;
    const std::string huge(resetd::kMaxMessageSize + 100, '\x01');
    assert_int_equal(::send(channel.ends[0], huge.data(), huge.size(), 0),
                     static_cast<ssize_t>(huge.size()));
    assert_false(resetd::receive_message(channel.ends[1]).has_value());
}

static void hung_up_peer_is_noticed(void**) {
    Channel channel;
    ::close(channel.ends[0]);
    channel.ends[0] = -1;
    assert_false(resetd::receive_message(channel.ends[1]).has_value());
}

static void monitor_refuses_requests_outside_the_protocol(void**) {
    MonitorFixture f;
    const auto reset = static_cast<std::uint8_t>(Request::reset);
    const auto request_reset = static_cast<std::uint8_t>(Request::request_reset);
    const auto check_token = static_cast<std::uint8_t>(Request::check_token);
    const std::vector<std::pair<std::uint8_t, std::vector<std::string_view>>> refused = {
        {0, {"127.0.0.1", "alice"}},
        {42, {"127.0.0.1", "alice"}},
        {request_reset, {"127.0.0.1"}},
        {request_reset, {"127.0.0.1", "alice", "extra"}},
        {check_token, {"127.0.0.1"}},
        {reset, {"127.0.0.1", "token", "123456", "pw"}},
        {request_reset, {"not an address", "alice"}},
        {request_reset, {"", "alice"}},
        {request_reset, {}},
    };
    for (const auto& [kind, fields] : refused) {
        assert_false(f.monitor->answer(resetd::make_message(kind, fields)).has_value());
    }
}

static void monitor_answers_the_same_for_any_user_name(void**) {
    MonitorFixture f;
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.1", "no-such-user-here"}),
                     Answer::accepted);
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.2", "alice\r\nBcc: x@example.org"}),
                     Answer::accepted);
}

static void monitor_limits_requests_per_address(void**) {
    MonitorFixture f;
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.7", "a"}), Answer::accepted);
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.7", "b"}), Answer::accepted);
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.7", "c"}), Answer::ip_limited);
    assert_int_equal(f.ask(Request::request_reset, {"192.0.2.8", "c"}), Answer::accepted);
    // One IPv6 /64 is one client.
    assert_int_equal(f.ask(Request::request_reset, {"2001:db8::1", "a"}), Answer::accepted);
    assert_int_equal(f.ask(Request::request_reset, {"2001:db8::2", "a"}), Answer::accepted);
    assert_int_equal(f.ask(Request::request_reset, {"2001:db8:0:0:ffff::3", "a"}),
                     Answer::ip_limited);
    assert_int_equal(f.ask(Request::request_reset, {"2001:db8:0:1::1", "a"}), Answer::accepted);
}

static void monitor_counts_bad_links_per_address(void**) {
    MonitorFixture f;
    const std::string forged = std::string(24, 'a') + "." + std::string(64, 'b');
    assert_int_equal(f.ask(Request::check_token, {"192.0.2.9", forged}), Answer::token_invalid);
    assert_int_equal(f.ask(Request::reset, {"192.0.2.9", "garbage", "123456", "pw", "pw"}),
                     Answer::token_invalid);
    assert_int_equal(f.ask(Request::check_token, {"192.0.2.9", forged}), Answer::ip_limited);
    assert_int_equal(f.ask(Request::reset, {"192.0.2.9", forged, "1", "p", "p"}),
                     Answer::ip_limited);
    assert_int_equal(f.ask(Request::check_token, {"192.0.2.10", forged}), Answer::token_invalid);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_round_trip),
        cmocka_unit_test(malformed_messages_are_refused),
        cmocka_unit_test(messages_cross_a_socketpair_whole),
        cmocka_unit_test(oversized_datagram_is_refused),
        cmocka_unit_test(hung_up_peer_is_noticed),
        cmocka_unit_test(monitor_refuses_requests_outside_the_protocol),
        cmocka_unit_test(monitor_answers_the_same_for_any_user_name),
        cmocka_unit_test(monitor_limits_requests_per_address),
        cmocka_unit_test(monitor_counts_bad_links_per_address),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
