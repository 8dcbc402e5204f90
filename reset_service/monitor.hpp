// SPDX-License-Identifier: Apache-2.0
// The privileged monitor: runs as root, owns the store, PAM and mail, and answers the web
// process's three requests (protocol.hpp) after checking every value again itself. The web
// process can ask; only the monitor decides.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "accounts.hpp"
#include "log.hpp"
#include "mail_texts.hpp"
#include "protocol.hpp"
#include "rate_limit.hpp"
#include "service_manager.hpp"
#include "stall_guard.hpp"
#include "totp/clock.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"
#include "totp/reset_token.hpp"
#include "totp/store.hpp"
#include "totp/verify.hpp"
#include "work_queue.hpp"

namespace resetd {

struct MonitorConfig {
    totp::Policy policy;
    totp::MailSettings mail;
    totp::ResetSettings reset;
    MailTexts texts;
    std::string site_name;
    uid_t uid_min = 1000;
};

class Monitor {
  public:
    Monitor(MonitorConfig config, totp::Store& store, totp::ResetTokenStore& tokens,
            const totp::Clock& clock);

    // Answers the web process until it hangs up or breaks the protocol (exit status 1), or
    // SIGTERM/SIGINT/SIGHUP arrives on signal_fd (0). Either way the web process is stopped.
    // Pings systemd's watchdog between requests; a request or background job that runs past
    // its deadline ends the process (kStalledExitStatus).
    int serve(int channel, int signal_fd, pid_t web);

    // One answer per request; nullopt for a protocol violation (the service stops).
    std::optional<Message> answer(const Message& request);

  private:
    Message request_reset(std::string_view ip, std::string_view user);
    Message check_token(std::string_view ip, std::string_view token);
    Message reset(std::string_view ip, std::string_view token, std::string_view code,
                  std::string_view password, std::string_view repeat);

    // Background jobs (worker thread).
    void send_reset_link(const std::string& user, const std::string& ip);
    void send_change_notice(const std::string& user, const std::string& ip, std::int64_t when);

    // A token presented from an address: its stored entry, or the refusal. The address
    // may be over its failure limit (ip_limited); an unusable token (token_invalid) counts
    // against the address and is logged as `what` with the address.
    struct Admitted {
        std::optional<totp::ResetTokenEntry> entry;
        Answer refusal = Answer::token_invalid;
    };
    Admitted admit_token(std::string_view ip, std::string_view token, std::int64_t now,
                         const char* what);
    // The stored entry when the token is well-formed, known, matching and unexpired.
    std::optional<totp::ResetTokenEntry> usable_token(std::string_view token, std::int64_t now);
    // Changes the password once the link, the code and the account have passed; the link
    // is put back when the change is refused or fails.
    Message change(const std::string& user, std::string_view ip, std::string_view selector,
                   const totp::ResetTokenEntry& taken, std::string_view password);
    // Verifies the code under the record's lock, saves the outcome and logs it as the module
    // does (from `ip`); nullopt on a store error (logged).
    std::optional<totp::Verdict> check_code(const std::string& user, std::string_view ip,
                                            std::string_view code, std::int64_t now,
                                            bool& enrolled);
    // The address of `user` if enrolled with a verified one.
    std::optional<std::string> verified_email(const std::string& user);
    bool deliver(const std::string& user, const std::string& to, const MailTemplate& texts,
                 const std::string& subject, const Placeholders& values, std::int64_t now);

    // Whether to write a line of this kind now (the throttle's count of held-back lines is
    // written first when there is one).
    static bool may_log(LogThrottle& throttle, std::int64_t now);
    // Queues a mail job, one waiting per key; a full queue is logged (throttled).
    void post_mail_job(const std::string& key, std::function<void()> job, std::int64_t now,
                       Room room = Room::bounded);
    struct LinkUse;
    // Counts one use (a view, a submission) of the link `selector`, valid until `expires`,
    // in `count`; false (and the link forgotten) past `budget`. Forgets expired links.
    bool within_budget(const std::string& selector, std::int64_t expires, std::int64_t now,
                       int LinkUse::*count, int budget);
    // Takes a link that used up its budget, counts a failure for the address, logs it.
    void drop_used_up_link(const std::string& selector, const std::string& user,
                           std::string_view ip, const std::string& key, std::int64_t now,
                           const char* what, int budget);

    MonitorConfig config_;
    AccountRules account_rules_;
    totp::Store& store_;
    totp::ResetTokenStore& tokens_;
    const totp::Clock& clock_;
    RateLimiter requests_per_ip_;    // request thread
    RateLimiter failures_per_ip_;    // request thread
    RateLimiter mails_per_account_;  // worker thread
    LogThrottle over_limit_log_;     // request thread
    LogThrottle bad_name_log_;       // request thread
    LogThrottle bad_link_log_;       // request thread
    LogThrottle no_mail_log_;        // worker thread
    LogThrottle mail_limit_log_;     // worker thread
    LogThrottle queue_full_log_;     // request thread
    LogThrottle refused_reset_log_;  // request thread
    // Submissions per link, by selector: each costs PAM account management and the policy
    // check, whatever the address. In memory, like the limits.
    struct LinkUse {
        std::int64_t expires = 0;
        int submissions = 0;
        int views = 0;
    };
    std::map<std::string, LinkUse> link_uses_;  // request thread
    RateLimiter stalled_records_;               // request thread: users whose record lock timed out
    Watchdog watchdog_;                         // request thread
    StallGuard stall_guard_;
    StallGuard::Task& answering_;  // request thread
    WorkQueue queue_;              // last: its thread stops before the rest goes away
};

}  // namespace resetd
