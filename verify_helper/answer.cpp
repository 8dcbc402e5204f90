// SPDX-License-Identifier: Apache-2.0
#include "answer.hpp"

#include <syslog.h>

#include <optional>
#include <string>

#include "totp/account.hpp"
#include "totp/attempt.hpp"

namespace totp_verify {
namespace {

using totp::HelperExit;

class Answer {
  public:
    Answer(uid_t caller, const Request& request, const totp::Settings& settings, totp::Store& store,
           const LogLine& log)
        : caller_(caller), request_(request), settings_(settings), store_(store), log_(log) {}

    HelperExit run(std::int64_t now) {
        if (const std::optional<HelperExit> refused = check_caller_may_ask()) return *refused;
        const totp::Policy policy = totp::login_policy(settings_);
        const totp::Attempt attempt =
            totp::check_and_record(store_, request_.user, request_.code.view(), policy, now);
        switch (attempt.stage) {
            case totp::Attempt::Stage::checked:
                return report(attempt, policy, now);
            case totp::Attempt::Stage::not_enrolled:
                log(LOG_NOTICE, "authentication failure: not enrolled");
                return HelperExit::refused;
            case totp::Attempt::Stage::not_opened:
                log(LOG_ERR, "cannot use state (" + attempt.error.message + "), failing closed");
                return HelperExit::failed;
            case totp::Attempt::Stage::not_recorded:
                log(LOG_ERR,
                    "cannot record the attempt (" + attempt.error.message + "), failing closed");
                return HelperExit::failed;
        }
        return HelperExit::failed;
    }

  private:
    // nullopt: the caller may ask about this user.
    std::optional<HelperExit> check_caller_may_ask() {
        const totp::Result<totp::Account> target = totp::find_account(request_.user);
        if (!target) {
            if (target.error().code != totp::Errc::not_found) {
                log(LOG_ERR, "user lookup failed (" + target.error().message + "), failing closed");
                return HelperExit::failed;
            }
            log(LOG_WARNING, "refused: unknown user");
            return HelperExit::bad_request;
        }
        if (caller_ == 0 || target->uid == caller_) return std::nullopt;
        return check_helper_group();
    }

    std::optional<HelperExit> check_helper_group() {
        const std::string& group = settings_.verify_helper_group;
        if (group.empty()) {
            log(LOG_WARNING, "refused: the caller asked about another user's code");
            return HelperExit::bad_request;
        }
        const totp::Result<totp::Account> caller = totp::find_account(caller_);
        if (!caller) {
            log(LOG_ERR, "cannot look up the caller's account (" + caller.error().message +
                             "), failing closed");
            return HelperExit::failed;
        }
        const totp::Result<bool> member = totp::is_member(*caller, group);
        if (!member) {
            log(LOG_ERR, "verify_helper_group " + group + ": " + member.error().message +
                             ", failing closed");
            return HelperExit::failed;
        }
        if (!*member) {
            log(LOG_WARNING,
                "refused: the caller asked about another user's code and is not "
                "in verify_helper_group");
            return HelperExit::bad_request;
        }
        return std::nullopt;
    }

    // The lines the module writes for a code it checks itself (core's attempt_log_lines).
    HelperExit report(const totp::Attempt& attempt, const totp::Policy& policy, std::int64_t now) {
        for (const totp::AttemptLine& line :
             totp::attempt_log_lines(attempt, policy, now, settings_.debug)) {
            log(line.priority, line.text);
        }
        return totp::is_accepted(attempt.decision.verdict) ? HelperExit::accepted
                                                           : HelperExit::refused;
    }

    void log(int priority, const std::string& what) const {
        log_(priority,
             what + " for user " + request_.user + " (caller uid " + std::to_string(caller_) + ")");
    }

    uid_t caller_;
    const Request& request_;
    const totp::Settings& settings_;
    totp::Store& store_;
    const LogLine& log_;
};

}  // namespace

HelperExit answer_request(uid_t caller, const Request& request, const totp::Settings& settings,
                          totp::Store& store, std::int64_t now, const LogLine& log) {
    return Answer(caller, request, settings, store, log).run(now);
}

}  // namespace totp_verify
