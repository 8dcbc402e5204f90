// SPDX-License-Identifier: Apache-2.0
#include "monitor.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "accounts.hpp"
#include "log.hpp"
#include "password_change.hpp"
#include "password_policy.hpp"
#include "totp/attempt.hpp"
#include "totp/secret.hpp"
#include "totp/text.hpp"
#include "totp/username.hpp"

namespace resetd {
namespace {

constexpr int kHour = 3600;
// After a user's record stayed locked past the lock deadline, most likely by a stopped
// process, requests for that user fail at once for this long instead of waiting again: the
// monitor answers one request at a time, and the owner of a stopped totp-enroll could
// otherwise hold up everyone's requests, one lock deadline per request.
constexpr int kStalledRecordPause = 60;
// One waiting job per account (work_queue.hpp): room for this many accounts at once.
constexpr std::size_t kQueueCapacity = 4096;
// Refusal lines of one kind: this many per minute, then a count of the ones held back.
constexpr int kRefusalLinesPerMinute = 20;
constexpr int kMinute = 60;
constexpr std::size_t kMaxPasswordLength = 512;  // PAM_MAX_RESP_SIZE
// Password submissions one link allows (a user retrying a refused password needs a few).
constexpr int kSubmissionsPerLink = 10;
// Opening a link runs the same account checks (PAM account management included): enough
// views for a user coming back to the form, not a way to keep the monitor busy.
constexpr int kViewsPerLink = 30;

Message reply(Answer answer, const std::vector<std::string_view>& fields = {}) {
    return make_message(static_cast<std::uint8_t>(answer), fields);
}

std::string utc_time(std::int64_t when) {
    const std::time_t seconds = static_cast<std::time_t>(when);
    std::tm parts{};
    char text[64] = {};
    if (::gmtime_r(&seconds, &parts) == nullptr ||
        std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts) == 0) {
        return "an unknown time";
    }
    return text;
}

// A line of core's attempt_log_lines, in the words the module and totp-verify use.
void log_attempt_line(const std::string& user, std::string_view ip, const totp::AttemptLine& line) {
    constexpr const char* kFormat = "password reset for '%s' from %s: %s";
    const std::string from = totp::printable(ip);
    if (line.priority <= LOG_WARNING) {
        log_warning(kFormat, user.c_str(), from.c_str(), line.text.c_str());
    } else {
        log_info(kFormat, user.c_str(), from.c_str(), line.text.c_str());
    }
}

std::string with_trailing_slash(const std::string& url) {
    return url.ends_with('/') ? url : url + "/";
}

// A background job may make a request's lock waits and then send one mail: every attempt
// (smtp_timeout each) and the pauses between them (under 3 s each).
std::chrono::seconds job_deadline(const totp::MailSettings& mail) {
    return kAnswerDeadline + (1 + mail.retries) * std::chrono::seconds(mail.timeout_seconds + 3);
}

}  // namespace

Monitor::Monitor(MonitorConfig config, totp::Store& store, totp::ResetTokenStore& tokens,
                 const totp::Clock& clock)
    : config_(std::move(config)),
      account_rules_{config_.uid_min, totp::split_names(config_.reset.reset_exclude_groups)},
      store_(store),
      tokens_(tokens),
      clock_(clock),
      requests_per_ip_(config_.reset.requests_per_ip, kHour),
      failures_per_ip_(config_.reset.failures_per_ip, kHour),
      mails_per_account_(config_.reset.mails_per_account, kHour),
      over_limit_log_("reset requests over the limit", kRefusalLinesPerMinute, kMinute),
      bad_name_log_("reset requests for invalid user names", kRefusalLinesPerMinute, kMinute),
      bad_link_log_("unusable reset links", kRefusalLinesPerMinute, kMinute),
      no_mail_log_("reset requests that send no mail", kRefusalLinesPerMinute, kMinute),
      mail_limit_log_("reset mails over the limit", kRefusalLinesPerMinute, kMinute),
      queue_full_log_("mail requests dropped (queue full)", 1, kMinute),
      refused_reset_log_("refused password resets", kRefusalLinesPerMinute, kMinute),
      stalled_records_(1, kStalledRecordPause),
      answering_(stall_guard_.task("a request", kAnswerDeadline)),
      queue_(kQueueCapacity, stall_guard_.task("a background job", job_deadline(config_.mail))) {}

bool Monitor::may_log(LogThrottle& throttle, std::int64_t now) {
    if (!throttle.admit(now)) return false;
    if (const std::uint64_t held = throttle.last_held_back(); held > 0) {
        log_warning("%llu log lines held back: %s", static_cast<unsigned long long>(held),
                    throttle.kind());
    }
    return true;
}

void Monitor::post_mail_job(const std::string& key, std::function<void()> job, std::int64_t now,
                            Room room) {
    if (queue_.post(key, std::move(job), room) == Posted::full && may_log(queue_full_log_, now)) {
        log_error("mail queue full (%zu accounts waiting for mail): requests dropped",
                  kQueueCapacity);
    }
}

bool Monitor::within_budget(const std::string& selector, std::int64_t expires, std::int64_t now,
                            int LinkUse::*count, int budget) {
    std::erase_if(link_uses_, [now](const auto& use) { return use.second.expires <= now; });
    LinkUse& use = link_uses_[selector];
    use.expires = expires;
    if (++(use.*count) <= budget) return true;
    link_uses_.erase(selector);
    return false;
}

void Monitor::drop_used_up_link(const std::string& selector, const std::string& user,
                                std::string_view ip, const std::string& key, std::int64_t now,
                                const char* what, int budget) {
    failures_per_ip_.record(key, now);
    totp::Result<totp::ResetTokenEntry> dropped = tokens_.take_reset_token(selector);
    if (!dropped && dropped.error().code != totp::Errc::not_found) {
        log_error("could not drop the reset link of '%s': %s", user.c_str(),
                  dropped.error().message.c_str());
    }
    if (may_log(refused_reset_log_, now))
        log_warning("reset link of '%s' dropped after %d %s (the last from %s)", user.c_str(),
                    budget, what, totp::printable(ip).c_str());
}

int Monitor::serve(int channel, int signal_fd, pid_t web) {
    const auto stop_web = [&](int status) {
        // A request the web process has sent us is then answered 503 at once, not after
        // its wait for our answer.
        ::shutdown(channel, SHUT_RDWR);
        ::kill(web, SIGTERM);
        while (::waitpid(web, nullptr, 0) < 0 && errno == EINTR) {
        }
        return status;
    };
    for (;;) {
        watchdog_.ping_if_due();
        pollfd fds[2] = {{channel, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        if (::poll(fds, 2, watchdog_.poll_timeout_ms()) < 0) {
            if (errno == EINTR) continue;
            log_error("poll: %s", std::strerror(errno));
            return stop_web(1);
        }
        if (fds[1].revents != 0) {
            signalfd_siginfo info{};
            if (::read(signal_fd, &info, sizeof info) != sizeof info) continue;
            if (info.ssi_signo == SIGCHLD) {
                if (::waitpid(web, nullptr, WNOHANG) == web) {
                    log_error("the web process exited; stopping");
                    return 1;
                }
                continue;
            }
            log_info("stopping on signal %u", info.ssi_signo);
            return stop_web(0);
        }
        if (fds[0].revents == 0) continue;
        const std::optional<Message> request = receive_message(channel);
        if (!request) {
            log_error("the web process hung up or sent a malformed message; stopping");
            return stop_web(1);
        }
        const StallGuard::Watch watch(answering_);
        const std::optional<Message> answered = answer(*request);
        if (!answered) {
            log_error("the web process sent a request outside the protocol; stopping");
            return stop_web(1);
        }
        if (!send_message(channel, *answered)) {
            log_error("could not answer the web process; stopping");
            return stop_web(1);
        }
    }
}

std::optional<Message> Monitor::answer(const Message& request) {
    const std::size_t fields = request.fields.size();
    if (fields == 0 || !address_key(request.field(0))) return std::nullopt;
    switch (static_cast<Request>(request.kind)) {
        case Request::request_reset:
            if (fields != 2) return std::nullopt;
            return request_reset(request.field(0), request.field(1));
        case Request::check_token:
            if (fields != 2) return std::nullopt;
            return check_token(request.field(0), request.field(1));
        case Request::reset:
            if (fields != 5) return std::nullopt;
            return reset(request.field(0), request.field(1), request.field(2), request.field(3),
                         request.field(4));
    }
    return std::nullopt;
}

// Nothing that depends on the account happens before the answer: existing and unknown
// users take the same path and the same time here; the checks run in the background.
Message Monitor::request_reset(std::string_view ip, std::string_view user) {
    const std::int64_t now = clock_.now();
    if (!requests_per_ip_.allow(*address_key(ip, requests_per_ip_.crowded()), now)) {
        if (may_log(over_limit_log_, now))
            log_warning("reset request from %s refused: over the limit of %d per hour",
                        totp::printable(ip).c_str(), config_.reset.requests_per_ip);
        return reply(Answer::ip_limited);
    }
    if (!totp::check_username(user)) {
        if (may_log(bad_name_log_, now))
            log_info("reset requested for an invalid user name '%s' from %s",
                     totp::printable(user).c_str(), totp::printable(ip).c_str());
        return reply(Answer::accepted);
    }
    log_info("reset requested for '%s' from %s", totp::printable(user).c_str(),
             totp::printable(ip).c_str());
    // Keyed by the typed name, with no lookup before the answer: only the account's own name
    // ever gets mail (check_user_database), so that is the key of every job that sends one.
    post_mail_job(
        "link " + std::string(user),
        [this, user = std::string(user), ip = std::string(ip)] { send_reset_link(user, ip); }, now);
    return reply(Answer::accepted);
}

Message Monitor::check_token(std::string_view ip, std::string_view token) {
    const std::int64_t now = clock_.now();
    const Admitted admitted = admit_token(ip, token, now, "unusable reset link opened");
    if (!admitted.entry) return reply(admitted.refusal);
    const std::string& user = admitted.entry->user;
    const std::string selector(token.substr(0, totp::kResetSelectorHexLength));
    if (!within_budget(selector, admitted.entry->expires, now, &LinkUse::views, kViewsPerLink)) {
        drop_used_up_link(selector, user, ip, *address_key(ip, failures_per_ip_.crowded()), now,
                          "views", kViewsPerLink);
        return reply(Answer::token_invalid);
    }
    if (const AccountCheck account = check_account(user, account_rules_, now);
        !account.eligible()) {
        log_info("reset link for '%s' refused: %s", user.c_str(), account.reason.c_str());
        return reply(Answer::token_invalid);
    }
    return reply(Answer::token_valid, {user});
}

Message Monitor::reset(std::string_view ip, std::string_view token, std::string_view code,
                       std::string_view password, std::string_view repeat) {
    const std::int64_t now = clock_.now();
    const Admitted admitted = admit_token(ip, token, now, "password reset with an unusable link");
    if (!admitted.entry) return reply(admitted.refusal);
    const std::string key = *address_key(ip, failures_per_ip_.crowded());
    const std::string& user = admitted.entry->user;
    const std::string selector(token.substr(0, totp::kResetSelectorHexLength));
    if (!within_budget(selector, admitted.entry->expires, now, &LinkUse::submissions,
                       kSubmissionsPerLink)) {
        drop_used_up_link(selector, user, ip, key, now, "submissions", kSubmissionsPerLink);
        return reply(Answer::token_invalid);
    }
    if (!totp::equal_constant_time(password, repeat)) {
        return reply(Answer::passwords_differ, {user});
    }
    if (password.size() > kMaxPasswordLength) {
        return reply(Answer::password_refused,
                     {user, "The password is longer than 512 characters."});
    }
    if (const AccountCheck account = check_account(user, account_rules_, now);
        !account.eligible()) {
        log_info("password reset for '%s' refused: %s", user.c_str(), account.reason.c_str());
        return reply(Answer::token_invalid);
    }
    // The policy before the code: a refused password must not cost the user a code, and a
    // recovery code once used is gone for good.
    if (const std::optional<std::string> refusal = policy_refusal(user, password)) {
        failures_per_ip_.record(key, now);
        if (may_log(refused_reset_log_, now))
            log_info("new password for '%s' refused by the policy; the code was not checked",
                     user.c_str());
        return reply(Answer::password_refused, {user, *refusal});
    }

    bool enrolled = true;
    const std::optional<totp::Verdict> verdict = check_code(user, ip, code, now, enrolled);
    if (!enrolled) {
        log_info("password reset for '%s' refused: no longer enrolled", user.c_str());
        return reply(Answer::token_invalid);
    }
    if (!verdict) return reply(Answer::failed);
    if (*verdict == totp::Verdict::locked) {
        failures_per_ip_.record(key, now);
        return reply(Answer::code_locked, {user});
    }
    if (!totp::is_accepted(*verdict)) {
        failures_per_ip_.record(key, now);
        return reply(Answer::code_wrong, {user});
    }

    // Taking the token makes this the one change it allows, however many requests race.
    totp::Result<totp::ResetTokenEntry> taken = tokens_.take_reset_token(selector);
    if (!taken) {
        log_info("password reset for '%s' refused: the link was used meanwhile", user.c_str());
        return reply(Answer::token_invalid);
    }
    return change(user, ip, selector, *taken, password);
}

Message Monitor::change(const std::string& user, std::string_view ip, std::string_view selector,
                        const totp::ResetTokenEntry& taken, std::string_view password) {
    // Asked again at the last moment, so an administrator's lock made since the checks
    // above stops the change instead of being overwritten by the new hash.
    const auto still_allowed = [&] {
        return password_status(user, clock_.now()) == Eligibility::eligible;
    };
    const PasswordChange result = change_password(user, password, std::string(ip), still_allowed);
    if (result.outcome == PasswordChange::Outcome::withdrawn) {
        log_warning("password reset for '%s' stopped: %s; the code was used and the link is gone",
                    user.c_str(), result.detail.c_str());
        return reply(Answer::token_invalid);
    }
    if (result.outcome != PasswordChange::Outcome::changed) {
        // Not used up: the user may try another password with the same link.
        if (totp::Status kept = tokens_.put_reset_token(selector, taken); !kept) {
            log_error("could not keep the reset link of '%s': %s", user.c_str(),
                      kept.error().message.c_str());
        }
        if (result.outcome == PasswordChange::Outcome::refused) {
            log_error(
                "new password for '%s' refused by PAM after the code was used (%s): the "
                "policy pre-check and the totp-reset stack disagree",
                user.c_str(), result.detail.c_str());
            std::vector<std::string_view> fields = {user};
            for (const std::string& message : result.messages) fields.push_back(message);
            return reply(Answer::password_refused_code_used, fields);
        }
        log_error("changing the password of '%s' failed after the code was used: %s", user.c_str(),
                  result.detail.c_str());
        return reply(Answer::failed);
    }

    log_info("password of '%s' changed through a reset link from %s", user.c_str(),
             totp::printable(ip).c_str());
    // The notice first: removing the other links waits for their locks, and a monitor
    // ended past its deadline meanwhile must not lose the news of a change already made.
    const std::int64_t changed = clock_.now();
    // Never dropped for a full queue: notices are bounded by successful changes.
    post_mail_job(
        "notice " + user,
        [this, user, ip = std::string(ip), changed] { send_change_notice(user, ip, changed); },
        changed, Room::always);
    if (totp::Status dropped = tokens_.drop_reset_tokens(user); !dropped) {
        log_error("could not remove the other reset links of '%s': %s", user.c_str(),
                  dropped.error().message.c_str());
    }
    return reply(Answer::password_changed);
}

Monitor::Admitted Monitor::admit_token(std::string_view ip, std::string_view token,
                                       std::int64_t now, const char* what) {
    const std::string key = *address_key(ip, failures_per_ip_.crowded());
    if (failures_per_ip_.exhausted(key, now)) return Admitted{std::nullopt, Answer::ip_limited};
    std::optional<totp::ResetTokenEntry> entry = usable_token(token, now);
    if (!entry) {
        failures_per_ip_.record(key, now);
        if (may_log(bad_link_log_, now)) log_info("%s from %s", what, totp::printable(ip).c_str());
    }
    return Admitted{std::move(entry), Answer::token_invalid};
}

std::optional<totp::ResetTokenEntry> Monitor::usable_token(std::string_view token,
                                                           std::int64_t now) {
    const std::optional<totp::ResetTokenParts> parts = totp::parse_reset_token(token);
    if (!parts) return std::nullopt;
    totp::Result<totp::ResetTokenEntry> entry = tokens_.find_reset_token(parts->selector);
    if (!entry) {
        if (entry.error().code != totp::Errc::not_found) {
            log_error("reading a reset link: %s", entry.error().message.c_str());
        }
        return std::nullopt;
    }
    if (!totp::reset_token_matches(*entry, *parts) || entry->expires <= now) return std::nullopt;
    return std::move(*entry);
}

std::optional<totp::Verdict> Monitor::check_code(const std::string& user, std::string_view ip,
                                                 std::string_view code, std::int64_t now,
                                                 bool& enrolled) {
    if (stalled_records_.exhausted(user, now)) {
        log_error(
            "password reset for '%s': its record stayed locked less than %d s ago; "
            "not waiting for it again yet",
            user.c_str(), kStalledRecordPause);
        return std::nullopt;
    }
    // The same step as the module's and totp-verify's: one rate limit, lockout and replay
    // rule for a code however it is checked.
    const totp::Attempt attempt = totp::check_and_record(store_, user, code, config_.policy, now);
    switch (attempt.stage) {
        case totp::Attempt::Stage::not_opened:
            if (attempt.error.code == totp::Errc::busy) stalled_records_.record(user, now);
            log_error("password reset for '%s': %s", user.c_str(), attempt.error.message.c_str());
            return std::nullopt;
        case totp::Attempt::Stage::not_enrolled:
            enrolled = false;
            return std::nullopt;
        case totp::Attempt::Stage::not_recorded:
            log_error("password reset for '%s': %s", user.c_str(), attempt.error.message.c_str());
            return std::nullopt;
        case totp::Attempt::Stage::checked:
            break;
    }
    // A locked user's refusals come in floods and say nothing new: throttled.
    if (attempt.decision.verdict != totp::Verdict::locked || may_log(refused_reset_log_, now)) {
        for (const totp::AttemptLine& line :
             totp::attempt_log_lines(attempt, config_.policy, now, /*debug=*/false)) {
            log_attempt_line(user, ip, line);
        }
    }
    return attempt.decision.verdict;
}

std::optional<std::string> Monitor::verified_email(const std::string& user) {
    totp::Result<std::unique_ptr<totp::Record>> record = store_.open(user);
    if (!record) {
        log_error("reading the enrollment of '%s': %s", user.c_str(),
                  record.error().message.c_str());
        return std::nullopt;
    }
    const auto& state = (*record)->state();
    if (!state) {
        if (may_log(no_mail_log_, clock_.now()))
            log_info("no reset mail for '%s': not enrolled", user.c_str());
        return std::nullopt;
    }
    if (state->email.empty() || !state->email_verified) {
        if (may_log(no_mail_log_, clock_.now()))
            log_info("no reset mail for '%s': no verified email address", user.c_str());
        return std::nullopt;
    }
    return state->email;
}

void Monitor::send_reset_link(const std::string& user, const std::string& ip) {
    const std::int64_t now = clock_.now();
    if (totp::Status pruned = tokens_.prune_reset_tokens(now); !pruned) {
        log_error("removing expired reset links: %s", pruned.error().message.c_str());
    }
    if (const AccountCheck account = check_user_database(user, account_rules_, now);
        !account.eligible()) {
        if (may_log(no_mail_log_, now))
            log_info("no reset mail for '%s': %s", totp::printable(user).c_str(),
                     account.reason.c_str());
        return;
    }
    if (!mails_per_account_.allow(user, now)) {
        if (may_log(mail_limit_log_, now))
            log_warning("no reset mail for '%s': %d sent in the last hour already", user.c_str(),
                        config_.reset.mails_per_account);
        return;
    }
    const std::optional<std::string> email = verified_email(user);
    if (!email) return;
    if (const AccountCheck account = check_pam_account(user); !account.eligible()) {
        if (may_log(no_mail_log_, now))
            log_info("no reset mail for '%s': %s", user.c_str(), account.reason.c_str());
        return;
    }

    totp::Result<totp::IssuedResetToken> issued =
        totp::issue_reset_token(user, now + config_.reset.token_lifetime);
    if (!issued) {
        log_error("no reset link for '%s': %s", user.c_str(), issued.error().message.c_str());
        return;
    }
    if (totp::Status stored = tokens_.put_reset_token(issued->selector, issued->entry); !stored) {
        log_error("no reset link for '%s': %s", user.c_str(), stored.error().message.c_str());
        return;
    }
    // totp-enroll email drops a user's links before it records a new address: a link stored
    // after that drop, for the address read before it, must not go out. Read again now that
    // the link is stored; any drop from here on removes this link too.
    if (verified_email(user) != email) {
        (void)tokens_.take_reset_token(issued->selector);
        log_info("no reset mail for '%s': the address changed meanwhile", user.c_str());
        return;
    }
    totp::SecretString link(with_trailing_slash(config_.reset.base_url) + "reset?token=");
    link.append(issued->text.view());
    const std::string minutes = std::to_string((config_.reset.token_lifetime + 59) / 60);
    const Placeholders values = {
        {"site", config_.site_name}, {"user", user}, {"link", link.view()}, {"minutes", minutes}};
    if (deliver(user, *email, config_.texts.reset, config_.reset.reset_subject, values, now)) {
        log_info("reset link for '%s' sent to %s (requested from %s)", user.c_str(), email->c_str(),
                 totp::printable(ip).c_str());
    } else {
        // A link nobody received must not stay usable.
        (void)tokens_.take_reset_token(issued->selector);
    }
}

void Monitor::send_change_notice(const std::string& user, const std::string& ip,
                                 std::int64_t when) {
    const std::optional<std::string> email = verified_email(user);
    if (!email) return;
    const std::string time = utc_time(when);
    const Placeholders values = {
        {"site", config_.site_name}, {"user", user}, {"time", time}, {"ip", ip}};
    if (deliver(user, *email, config_.texts.changed, config_.reset.changed_subject, values,
                clock_.now())) {
        log_info("password change notice for '%s' sent to %s", user.c_str(), email->c_str());
    }
}

bool Monitor::deliver(const std::string& user, const std::string& to, const MailTemplate& texts,
                      const std::string& subject, const Placeholders& values, std::int64_t now) {
    totp::MailMessage message;
    message.to = to;
    message.subject = std::string(render(subject, {{"site", config_.site_name}}, false).view());
    totp::SecretString text = render(texts.text, values, false);
    totp::SecretString html = render(texts.html, values, true);
    message.text_body = std::string(text.view());
    message.html_body = std::string(html.view());
    const totp::Status sent = totp::send_mail(config_.mail, message, now);
    totp::wipe(message.text_body);
    totp::wipe(message.html_body);
    if (!sent) {
        log_error("mail to '%s' <%s> failed: %s", user.c_str(), to.c_str(),
                  sent.error().message.c_str());
    }
    return sent.ok();
}

}  // namespace resetd
