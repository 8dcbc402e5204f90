// SPDX-License-Identifier: Apache-2.0
#include "web.hpp"

#include <microhttpd.h>
#include <signal.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "client_address.hpp"
#include "csrf.hpp"
#include "form.hpp"
#include "log.hpp"
#include "pages.hpp"
#include "protocol.hpp"
#include "totp/reset_settings.hpp"

namespace resetd {
namespace {

constexpr std::size_t kConnectionMemory = 16 * 1024;  // request line and headers
// The monitor answers within kAnswerDeadline or ends itself; a little longer than that,
// and it is stopped, not slow.
constexpr std::chrono::seconds kMonitorTimeout = kAnswerDeadline + std::chrono::seconds(5);
constexpr std::chrono::seconds kDrainDeadline{2};
constexpr std::size_t kMaxUserField = 512;
constexpr int kRefusalLinesPerMinute = 20;
constexpr std::int64_t kMinute = 60;

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

// Serialises the request/answer pairs of the connection threads on the one channel.
class MonitorClient {
  public:
    explicit MonitorClient(int fd) : fd_(fd) {
        const timeval timeout{static_cast<time_t>(kMonitorTimeout.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    }

    // nullopt: the channel is broken for good (an answer that came late would otherwise be
    // taken for the next request's); the process stops once that request is answered.
    std::optional<Message> ask(Request kind, const std::vector<std::string_view>& fields) {
        const std::lock_guard lock(mutex_);
        if (!broken_ && send_message(fd_, make_message(static_cast<std::uint8_t>(kind), fields))) {
            if (std::optional<Message> answer = receive_message(fd_)) return answer;
        }
        if (!broken_.exchange(true)) log_error("the monitor does not answer; stopping");
        return std::nullopt;
    }

    bool broken() const { return broken_; }

  private:
    int fd_;
    std::mutex mutex_;
    std::atomic<bool> broken_{false};
};

// One HTTP request while MHD feeds it to us.
struct Exchange {
    totp::SecretString body;
    bool too_large = false;
};

struct Reply {
    Page page;
    std::string set_cookie;
    const char* allow = nullptr;  // for 405
    const char* content_type = "text/html; charset=utf-8";
};

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

// The value of the last header line named `name` (nullptr: none). MHD's lookup gives the
// first; a proxy that appends its own line keeps the client's lines before it.
struct LastHeader {
    std::string_view name;
    const char* value = nullptr;
};

MHD_Result remember_if_named(void* context, MHD_ValueKind, const char* key, const char* value) {
    auto& last = *static_cast<LastHeader*>(context);
    if (key != nullptr && equal_ignoring_case(key, last.name)) last.value = value ? value : "";
    return MHD_YES;
}

const char* last_header(MHD_Connection* connection, std::string_view name) {
    LastHeader last{name};
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &remember_if_named, &last);
    return last.value;
}

sockaddr unix_peer() {
    sockaddr peer{};
    peer.sa_family = AF_UNIX;
    return peer;
}

class Web {
  public:
    Web(const WebConfig& config, CsrfGuard csrf, int monitor_fd, bool unix_listener)
        : config_(config),
          site_{config.site_name, (config.reset.token_lifetime + 59) / 60},
          csrf_(std::move(csrf)),
          monitor_(monitor_fd),
          secure_(config.reset.base_url.starts_with("https://")),
          cookie_name_(secure_ ? "__Host-csrf" : "csrf"),
          trusted_proxies_(totp::parse_address_prefixes(config.reset.trusted_proxies)
                               .value_or(std::vector<totp::AddressPrefix>{})),
          unix_listener_(unix_listener) {}

    MonitorClient& monitor() { return monitor_; }

    // Requests read but not yet answered.
    int in_progress() const { return in_progress_; }
    void finished(std::unique_ptr<Exchange> exchange) {
        if (exchange) --in_progress_;
    }

    MHD_Result handle(MHD_Connection* connection, std::string_view url, std::string_view method,
                      const char* upload, std::size_t* upload_size, void** state) {
        if (*state == nullptr) {
            if (method == MHD_HTTP_METHOD_POST) {
                if (const unsigned refusal = refuse_upload(connection); refusal != 0) {
                    return send(connection, {http_error(site_, refusal), {}, nullptr});
                }
            }
            *state = std::make_unique<Exchange>().release();
            ++in_progress_;
            return MHD_YES;
        }
        auto& exchange = *static_cast<Exchange*>(*state);
        if (*upload_size != 0) {
            if (exchange.body.size() + *upload_size > max_body()) {
                exchange.too_large = true;
            } else {
                exchange.body.append(std::string_view(upload, *upload_size));
            }
            *upload_size = 0;
            return MHD_YES;
        }
        if (exchange.too_large) return send(connection, {http_error(site_, 413), {}, nullptr});
        return send(connection, route(connection, url, method, exchange));
    }

  private:
    std::size_t max_body() const { return static_cast<std::size_t>(config_.reset.max_body); }

    // Decided from the headers, before any of the body is read: MHD then answers and closes.
    unsigned refuse_upload(MHD_Connection* connection) const {
        const char* type =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (type == nullptr ||
            !starts_with_ignoring_case(type, "application/x-www-form-urlencoded")) {
            return 415;
        }
        const char* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length == nullptr) return 411;  // chunked: we want to know the size first
        std::size_t size = 0;
        const std::string_view text(length);
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), size);
        if (error != std::errc{} || end != text.data() + text.size()) return 400;
        return size > max_body() ? 413 : 0;
    }

    Reply route(MHD_Connection* connection, std::string_view url, std::string_view method,
                const Exchange& exchange) {
        const std::optional<std::string> ip = client_ip(connection);
        if (!ip) return {http_error(site_, 400), {}, nullptr};
        const bool get = method == MHD_HTTP_METHOD_GET || method == MHD_HTTP_METHOD_HEAD;
        const bool post = method == MHD_HTTP_METHOD_POST;
        if (url == "/") {
            if (!get) return not_allowed("GET, HEAD");
            return show_request_form(connection);
        }
        if (url == "/request") {
            if (!post) return not_allowed("POST");
            return request_reset(connection, *ip, exchange);
        }
        if (url == "/reset") {
            if (get) return show_reset_form(connection, *ip);
            if (post) return reset(connection, *ip, exchange);
            return not_allowed("GET, HEAD, POST");
        }
        if (url == "/style.css") {
            if (!get) return not_allowed("GET, HEAD");
            return {Page{200, totp::SecretString(stylesheet())},
                    {},
                    nullptr,
                    "text/css; charset=utf-8"};
        }
        return {http_error(site_, 404), {}, nullptr};
    }

    Reply not_allowed(const char* allow) { return {http_error(site_, 405), {}, allow}; }

    Reply show_request_form(MHD_Connection* connection) {
        const std::string cookie = csrf_cookie(connection);
        if (cookie.empty()) return {server_error(site_), {}, nullptr};
        return {request_form(site_, csrf_.field_for(cookie)), cookie_header(cookie), nullptr};
    }

    Reply request_reset(MHD_Connection* connection, const std::string& ip,
                        const Exchange& exchange) {
        const std::optional<Form> form = parse_form(exchange.body.view(), form_limits());
        if (!form) return {http_error(site_, 400), {}, nullptr};
        if (!csrf_ok(connection, *form)) return {form_expired(site_, {}), {}, nullptr};
        std::string_view user = trim(form->value("user"));
        if (user.size() > kMaxUserField) user = user.substr(0, kMaxUserField);
        const std::optional<Message> answer = monitor_.ask(Request::request_reset, {ip, user});
        if (!answer) return {http_error(site_, 503), {}, nullptr};
        switch (static_cast<Answer>(answer->kind)) {
            case Answer::accepted:
                return {request_sent(site_), {}, nullptr};
            case Answer::ip_limited:
                return {too_many_requests(site_), {}, nullptr};
            default:
                return {server_error(site_), {}, nullptr};
        }
    }

    Reply show_reset_form(MHD_Connection* connection, const std::string& ip) {
        const char* token = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "token");
        const std::string_view text = token != nullptr ? std::string_view(token) : "";
        if (text.empty() || text.size() > kMaxUserField) return {link_invalid(site_), {}, nullptr};
        const std::optional<Message> answer = monitor_.ask(Request::check_token, {ip, text});
        if (!answer) return {http_error(site_, 503), {}, nullptr};
        switch (static_cast<Answer>(answer->kind)) {
            case Answer::token_valid:
                if (answer->fields.size() != 1) break;
                return form_page(connection, text, answer->field(0), ResetProblem::none, {});
            case Answer::token_invalid:
                return {link_invalid(site_), {}, nullptr};
            case Answer::ip_limited:
                return {too_many_requests(site_), {}, nullptr};
            default:
                break;
        }
        return {server_error(site_), {}, nullptr};
    }

    Reply reset(MHD_Connection* connection, const std::string& ip, const Exchange& exchange) {
        const std::optional<Form> form = parse_form(exchange.body.view(), form_limits());
        if (!form) return {http_error(site_, 400), {}, nullptr};
        const std::string_view token = form->value("token");
        if (!csrf_ok(connection, *form)) {
            const bool reopen = token.size() <= kMaxUserField && is_url_safe(token);
            return {form_expired(site_, reopen ? token : std::string_view()), {}, nullptr};
        }
        const std::optional<Message> answer = monitor_.ask(
            Request::reset,
            {ip, token, trim(form->value("code")), form->value("password"), form->value("repeat")});
        if (!answer) return {http_error(site_, 503), {}, nullptr};
        const auto kind = static_cast<Answer>(answer->kind);
        const auto again = [&](ResetProblem problem) -> Reply {
            if (answer->fields.empty()) return {server_error(site_), {}, nullptr};
            std::vector<std::string> messages;
            for (std::size_t i = 1; i < answer->fields.size(); ++i) {
                messages.emplace_back(answer->field(i));
            }
            return form_page(connection, token, answer->field(0), problem, std::move(messages));
        };
        switch (kind) {
            case Answer::password_changed:
                return {password_changed(site_), {}, nullptr};
            case Answer::token_invalid:
                return {link_invalid(site_), {}, nullptr};
            case Answer::passwords_differ:
                return again(ResetProblem::passwords_differ);
            case Answer::code_wrong:
                return again(ResetProblem::code_wrong);
            case Answer::code_locked:
                return again(ResetProblem::code_locked);
            case Answer::password_refused:
                return again(ResetProblem::password_refused);
            case Answer::password_refused_code_used:
                return again(ResetProblem::password_refused_code_used);
            case Answer::ip_limited:
                return {too_many_requests(site_), {}, nullptr};
            default:
                return {server_error(site_), {}, nullptr};
        }
    }

    Reply form_page(MHD_Connection* connection, std::string_view token, std::string_view user,
                    ResetProblem problem, std::vector<std::string> messages) {
        const std::string cookie = csrf_cookie(connection);
        if (cookie.empty()) return {server_error(site_), {}, nullptr};
        const std::string field = csrf_.field_for(cookie);
        ResetForm form{token, field, user, problem, std::move(messages)};
        return {reset_form(site_, form), cookie_header(cookie), nullptr};
    }

    static bool is_url_safe(std::string_view text) {
        for (char c : text) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.')) return false;
        }
        return true;
    }

    static FormLimits form_limits() { return FormLimits{8, 32, 1024}; }

    std::string csrf_cookie(MHD_Connection* connection) const {
        const char* sent =
            MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, cookie_name_.c_str());
        return csrf_.cookie_for(sent != nullptr ? sent : "");
    }

    bool csrf_ok(MHD_Connection* connection, const Form& form) const {
        const char* cookie =
            MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, cookie_name_.c_str());
        return cookie != nullptr && csrf_.check(cookie, form.value("csrf"));
    }

    std::string cookie_header(const std::string& cookie) const {
        return cookie_name_ + "=" + cookie + "; Path=/; HttpOnly; SameSite=Strict" +
               (secure_ ? "; Secure" : "");
    }

    // From the configured proxy header when the peer is a trusted proxy and sent it, else the
    // peer: anyone else could pick the address the limits count. nullopt: a trusted proxy
    // sent a header we cannot read; counting that request against the proxy's own address
    // would let one client use up the bucket every client behind the proxy shares.
    std::optional<std::string> client_ip(MHD_Connection* connection) {
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const sockaddr* peer = info != nullptr ? info->client_addr : nullptr;
        // A unix socket peer's own address says nothing (MHD may not even give one): every
        // peer of the unix listener is the same peer.
        const sockaddr any_unix_peer = unix_peer();
        if (unix_listener_) peer = &any_unix_peer;
        const std::string own = unix_listener_ ? kUnixPeerAddress : peer_address(peer);
        const std::string& header = config_.reset.client_ip_header;
        if (peer == nullptr || header.empty() ||
            !totp::address_in_prefixes(peer, trusted_proxies_)) {
            return own;
        }
        const char* forwarded = last_header(connection, header);
        if (forwarded == nullptr) return own;
        std::optional<std::string> address = forwarded_address(forwarded);
        if (!address) note_unreadable_header(own);
        return address;
    }

    void note_unreadable_header(const std::string& proxy) {
        if (!unreadable_log_.admit(std::time(nullptr))) return;
        if (const std::uint64_t held = unreadable_log_.last_held_back(); held > 0) {
            log_warning("%llu log lines held back: %s", static_cast<unsigned long long>(held),
                        unreadable_log_.kind());
        }
        log_warning("request from trusted proxy %s refused: its %s header holds no address",
                    proxy.c_str(), config_.reset.client_ip_header.c_str());
    }

    MHD_Result send(MHD_Connection* connection, Reply reply) {
        // MHD frees the body through wipe_body: pages may hold a token.
        auto body = std::make_unique<totp::SecretString>(std::move(reply.page.html));
        MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
            body->size(), const_cast<char*>(body->c_str()), &wipe_body, body.get());
        if (response == nullptr) return MHD_NO;
        static_cast<void>(body.release());  // MHD owns it now
        add_headers(response, reply);
        const MHD_Result queued = MHD_queue_response(connection, reply.page.status, response);
        MHD_destroy_response(response);
        return queued;
    }

    static void wipe_body(void* body) {
        const std::unique_ptr<totp::SecretString> sent(static_cast<totp::SecretString*>(body));
    }

    void add_headers(MHD_Response* response, const Reply& reply) const {
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type);
        MHD_add_response_header(response, "Content-Security-Policy", kContentSecurityPolicy);
        MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(response, "X-Frame-Options", "DENY");
        MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(response, "Cross-Origin-Opener-Policy", "same-origin");
        if (!reply.set_cookie.empty()) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, reply.set_cookie.c_str());
        }
        if (reply.allow != nullptr) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, reply.allow);
        }
    }

    const WebConfig& config_;
    Site site_;
    CsrfGuard csrf_;
    MonitorClient monitor_;
    std::atomic<int> in_progress_{0};
    bool secure_;
    std::string cookie_name_;
    std::vector<totp::AddressPrefix> trusted_proxies_;
    bool unix_listener_;
    LogThrottle unreadable_log_{"requests with an unreadable client address header",
                                kRefusalLinesPerMinute, kMinute};
};

MHD_Result on_request(void* context, MHD_Connection* connection, const char* url,
                      const char* method, const char*, const char* upload, std::size_t* upload_size,
                      void** state) {
    try {
        return static_cast<Web*>(context)->handle(connection, url, method, upload, upload_size,
                                                  state);
    } catch (const std::exception& error) {
        log_error("request failed: %s", error.what());
    } catch (...) {
        log_error("request failed");
    }
    return MHD_NO;  // closes the connection
}

void on_completed(void* context, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
    auto& web = *static_cast<Web*>(context);
    web.finished(std::unique_ptr<Exchange>(static_cast<Exchange*>(*state)));  // wipes the body
    *state = nullptr;
    // Only now, with its 503 sent: stopping earlier would close the connection unanswered.
    if (web.monitor().broken()) ::kill(::getpid(), SIGTERM);
}

// Lets the requests being answered finish before the server closes their connections, for
// at most kDrainDeadline: a monitor that went away leaves them a 503 to send.
void drain(const Web& web) {
    const auto end = std::chrono::steady_clock::now() + kDrainDeadline;
    while (web.in_progress() > 0 && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool is_unix_socket(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    return ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0 &&
           address.ss_family == AF_UNIX;
}

void on_mhd_log(void*, const char* format, va_list arguments) {
    vsyslog(LOG_AUTHPRIV | LOG_WARNING, format, arguments);
}

// Settings that work but weaken the per-address limits, said once before serving (so
// they are in the log by the time anyone can connect).
void warn_about_listener(const WebConfig& config, const std::vector<totp::AddressPrefix>& proxies,
                         bool unix_listener) {
    if (!unix_listener && !config.reset.client_ip_header.empty() &&
        totp::prefixes_cover_loopback(proxies)) {
        log_warning(
            "trusted_proxies trusts a loopback address on a TCP listener: every local "
            "user may set %s; a proxy on this host should use listen = unix:/path",
            config.reset.client_ip_header.c_str());
    }
    const bool unix_trusted = std::any_of(proxies.begin(), proxies.end(),
                                          [](const auto& prefix) { return prefix.unix_peers; });
    if (unix_listener && (config.reset.client_ip_header.empty() || !unix_trusted)) {
        log_warning(
            "a unix socket listener without client_ip_header and trusted_proxies = unix counts "
            "every client as one address: one client can use up the limits for everyone");
    }
}

}  // namespace

int run_web(const WebConfig& config, int listen_fd, int monitor_fd, totp::UniqueFd ready) {
    std::optional<CsrfGuard> csrf = CsrfGuard::create();
    if (!csrf) {
        log_error("random number generator failed");
        return 1;
    }
    const bool unix_listener = is_unix_socket(listen_fd);
    Web web(config, std::move(*csrf), monitor_fd, unix_listener);
    const std::vector<totp::AddressPrefix> proxies =
        totp::parse_address_prefixes(config.reset.trusted_proxies)
            .value_or(std::vector<totp::AddressPrefix>{});
    // Behind a trusted TCP proxy every connection comes from the proxy: no per-address limit
    // then. (MHD has none for unix socket peers; the total and the timeout still hold.)
    const bool behind_proxy =
        !config.reset.client_ip_header.empty() &&
        std::any_of(proxies.begin(), proxies.end(),
                    [](const totp::AddressPrefix& prefix) { return !prefix.unix_peers; });
    const unsigned per_ip = behind_proxy ? 0 : 16;
    warn_about_listener(config, proxies, unix_listener);
    MHD_Daemon* daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, nullptr, nullptr, &on_request, &web, MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, nullptr,
        MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        static_cast<unsigned>(config.reset.max_connections), MHD_OPTION_CONNECTION_TIMEOUT,
        static_cast<unsigned>(config.reset.connection_timeout), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        kConnectionMemory, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_STRICT_FOR_CLIENT,
        1, MHD_OPTION_NOTIFY_COMPLETED, &on_completed, &web, MHD_OPTION_END);
    if (daemon == nullptr) {
        log_error("could not start the HTTP server");
        return 1;
    }
    const char serving = 1;
    if (::write(ready.get(), &serving, 1) != 1) {
        log_error("could not tell the monitor that the web process serves");
        MHD_stop_daemon(daemon);
        return 1;
    }
    ready.reset();
    log_info("serving %s", config.reset.base_url.c_str());

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    int signal = 0;
    while (sigwait(&stop, &signal) != 0) {
    }
    drain(web);
    MHD_stop_daemon(daemon);
    return web.monitor().broken() ? 1 : 0;
}

}  // namespace resetd
