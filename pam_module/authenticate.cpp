#include "authenticate.hpp"

#include <syslog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "identity.hpp"
#include "totp/username.hpp"
#include "totp/verify.hpp"

namespace pam_totp {
namespace {

constexpr const char* kCombinedPrompt = "Password & verification code: ";
// A recovery code as printed by totp-enroll, XXXX-XXXX-XXXX, typed after the password.
constexpr std::size_t kPrintedRecoveryLength = 14;

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_like_printed_recovery_code(std::string_view text) {
    if (text.size() != kPrintedRecoveryLength || text[4] != '-' || text[9] != '-') return false;
    return totp::normalize_recovery_code(text).has_value();
}

// Splits "password123456" into the password and the trailing code of `digits` digits
// (or a trailing printed recovery code). Without a recognisable tail, everything is
// the password and the code is empty, which fails.
struct SplitInput {
    totp::SecretString password;
    totp::SecretString code;
};

SplitInput split_password_and_code(std::string_view combined, int digits) {
    SplitInput split;
    const auto code_length = static_cast<std::size_t>(digits);
    std::size_t cut = combined.size();
    if (combined.size() > code_length &&
        all_digits(combined.substr(combined.size() - code_length))) {
        cut = combined.size() - code_length;
    } else if (combined.size() > kPrintedRecoveryLength &&
               looks_like_printed_recovery_code(
                   combined.substr(combined.size() - kPrintedRecoveryLength))) {
        cut = combined.size() - kPrintedRecoveryLength;
    }
    split.password.append(combined.substr(0, cut));
    split.code.append(combined.substr(cut));
    return split;
}

// An input worth checking: a code or a recovery code (a password read from PAM_AUTHTOK
// under try_first_pass is not, and must not count as a failure).
bool looks_like_code(std::string_view text, int digits) {
    return (text.size() == static_cast<std::size_t>(digits) && all_digits(text)) ||
           totp::normalize_recovery_code(text).has_value();
}

class Login {
  public:
    Login(PamSession& session, const totp::Settings& settings, totp::Store& store,
          const totp::Clock& clock)
        : session_(session), settings_(settings), store_(store), clock_(clock) {}

    // The account is looked up only where it matters: group scoping needs its groups, and
    // a user who is not enrolled is refused when unknown (even with nullok). An enrolled
    // user is not looked up (with a flat user database that is a scan per login), so a
    // record left behind by a deleted account is checked like any other; such an account
    // cannot log in anyway, as the password and account steps know no such user.
    int run() {
        if (const totp::Status name = totp::check_username(session_.user()); !name) {
            session_.log_plain(LOG_WARNING, "refusing unsafe user name: " + name.error().message);
            return prompt_then_fail();
        }
        const bool scoped = !settings_.require_group.empty() || !settings_.exempt_group.empty();
        if (scoped) {
            Account account;
            if (const std::optional<int> failed = find_account(account)) return *failed;
            if (const std::optional<int> outside = check_group_scope(account)) return *outside;
        }

        const totp::Result<bool> enrolled = store_.enrolled(session_.user());
        if (!enrolled) {
            session_.log(LOG_ERR,
                         "cannot use state (" + enrolled.error().message + "), failing closed");
            return prompt_then_fail();
        }
        if (!*enrolled) return refuse_unenrolled(scoped);

        // Only these two read the user's own number of digits before the code is typed.
        int digits = settings_.params.digits;
        if (settings_.forward_pass || settings_.try_first_pass) {
            const std::optional<int> enrolled_digits = read_digits();
            if (!enrolled_digits) return prompt_then_fail();
            digits = *enrolled_digits;
        }
        return settings_.try_first_pass ? try_authtok_then_prompt(digits)
                                        : check(obtain_input(digits));
    }

  private:
    // nullopt when the account exists; otherwise logs why and fails the login.
    std::optional<int> find_account(Account& account) {
        switch (lookup_account(session_.user(), account)) {
            case Lookup::found:
                return std::nullopt;
            case Lookup::unknown:
                session_.log_plain(LOG_NOTICE, "authentication failure: unknown user");
                return prompt_then_fail();
            case Lookup::error:
                session_.log(LOG_ERR, "user lookup failed");
                return prompt_then_fail();
        }
        return prompt_then_fail();
    }

    int refuse_unenrolled(bool account_found) {
        if (!account_found) {
            Account account;
            if (const std::optional<int> failed = find_account(account)) return *failed;
        }
        if (settings_.nullok) {
            if (settings_.debug) session_.log(LOG_DEBUG, "not enrolled, nullok: ignoring");
            return PAM_IGNORE;
        }
        session_.log(LOG_NOTICE, "authentication failure: not enrolled");
        return prompt_then_fail();
    }

    // The enrolled user's number of digits; nullopt (logged) when the state cannot be used.
    // The lock is not kept while the user types: a slow client must not block others.
    std::optional<int> read_digits() {
        auto record = store_.open(session_.user());
        if (!record) {
            session_.log(LOG_ERR,
                         "cannot use state (" + record.error().message + "), failing closed");
            return std::nullopt;
        }
        if (!(*record)->state()) {
            session_.log(LOG_NOTICE, "authentication failure: enrollment removed during login");
            return std::nullopt;
        }
        return (*record)->state()->params.digits;
    }

    // Scoping by group: PAM_IGNORE for users outside it, a failure if the group is
    // missing (a typo must not silently exempt everybody), nothing to say otherwise.
    std::optional<int> check_group_scope(const Account& account) {
        if (!settings_.require_group.empty()) {
            switch (group_membership(session_.user(), account, settings_.require_group)) {
                case Membership::member:
                    break;
                case Membership::not_member:
                    if (settings_.debug) session_.log(LOG_DEBUG, "not in require_group, ignoring");
                    return PAM_IGNORE;
                case Membership::no_such_group:
                case Membership::error:
                    session_.log(LOG_ERR, "require_group '" + settings_.require_group +
                                              "' cannot be resolved, failing closed");
                    return PAM_SERVICE_ERR;
            }
        }
        if (!settings_.exempt_group.empty()) {
            switch (group_membership(session_.user(), account, settings_.exempt_group)) {
                case Membership::member:
                    if (settings_.debug) session_.log(LOG_DEBUG, "in exempt_group, ignoring");
                    return PAM_IGNORE;
                case Membership::not_member:
                    break;
                case Membership::no_such_group:
                case Membership::error:
                    session_.log(LOG_ERR, "exempt_group '" + settings_.exempt_group +
                                              "' cannot be resolved, failing closed");
                    return PAM_SERVICE_ERR;
            }
        }
        return std::nullopt;
    }

    // Reads the code the way the settings say. nullopt: the conversation failed.
    std::optional<totp::SecretString> obtain_input(int digits) {
        if (settings_.forward_pass) {
            std::optional<totp::SecretString> combined = session_.ask_hidden(kCombinedPrompt);
            if (!combined) return std::nullopt;
            SplitInput split = split_password_and_code(combined->view(), digits);
            if (!session_.set_authtok(split.password)) return std::nullopt;
            return std::move(split.code);
        }
        if (settings_.use_first_pass) {
            std::optional<totp::SecretString> token = session_.authtok();
            return token ? std::move(token) : totp::SecretString();
        }
        return session_.ask_hidden(settings_.prompt);
    }

    int try_authtok_then_prompt(int digits) {
        if (std::optional<totp::SecretString> token = session_.authtok();
            token && looks_like_code(token->view(), digits)) {
            const int rc = check(std::move(token));
            // Only a code that was examined, refused and recorded leads on to the prompt: a
            // state that could not be read or written fails the login here (fail closed).
            if (rc != PAM_AUTH_ERR || store_failed_) return rc;
        }
        return check(session_.ask_hidden(settings_.prompt));
    }

    // Ask exactly as for an enrolled user, then fail: the conversation must not tell an
    // unknown or unenrolled user apart from one who typed a wrong code.
    int prompt_then_fail() {
        std::optional<totp::SecretString> ignored = obtain_input(settings_.params.digits);
        return ignored ? PAM_AUTH_ERR : PAM_CONV_ERR;
    }

    int check(std::optional<totp::SecretString> input) {
        if (!input) {
            session_.log(LOG_ERR, "conversation failed");
            return PAM_CONV_ERR;
        }
        auto record = store_.open(session_.user());
        if (!record) {
            session_.log(LOG_ERR,
                         "cannot use state (" + record.error().message + "), failing closed");
            store_failed_ = true;
            return PAM_AUTH_ERR;
        }
        if (!(*record)->state()) {
            session_.log(LOG_NOTICE, "authentication failure: enrollment removed during login");
            store_failed_ = true;
            return PAM_AUTH_ERR;
        }
        totp::UserState state = (*record)->state()->clone();
        const totp::Policy policy{settings_.window, settings_.max_failures,
                                  settings_.lockout_seconds};
        const std::int64_t now = clock_.now();
        const totp::Decision decision = totp::decide(state, input->view(), policy, now);
        input->clear();

        if (decision.state_changed) {
            if (const totp::Status saved = (*record)->save(state); !saved) {
                session_.log(LOG_ERR, "cannot record the attempt (" + saved.error().message +
                                          "), failing closed");
                store_failed_ = true;
                return PAM_AUTH_ERR;
            }
        }
        return report(decision, state, now);
    }

    int report(const totp::Decision& decision, const totp::UserState& state, std::int64_t now) {
        switch (decision.verdict) {
            case totp::Verdict::accepted_code:
                session_.log(LOG_INFO, "accepted verification code");
                return PAM_SUCCESS;
            case totp::Verdict::accepted_recovery:
                session_.log(LOG_NOTICE, "accepted recovery code (" +
                                             std::to_string(state.recovery.size()) + " left)");
                return PAM_SUCCESS;
            case totp::Verdict::locked:
                session_.log(LOG_NOTICE, "refused: locked out for another " +
                                             std::to_string(state.locked_until - now) + " s");
                return PAM_MAXTRIES;
            case totp::Verdict::replayed:
                session_.log(LOG_WARNING,
                             "refused replayed verification code (time step already used)");
                break;
            case totp::Verdict::wrong:
                session_.log(LOG_NOTICE, "wrong verification code");
                break;
        }
        const std::string count = "(" + std::to_string(state.failures) + " consecutive failures)";
        if (decision.lockout_started) {
            session_.log(
                LOG_WARNING,
                "locked out for " + std::to_string(settings_.lockout_seconds) + " s " + count);
        } else if (settings_.debug) {
            session_.log(LOG_DEBUG, "failure recorded " + count);
        }
        return PAM_AUTH_ERR;
    }

    PamSession& session_;
    const totp::Settings& settings_;
    totp::Store& store_;
    const totp::Clock& clock_;
    bool store_failed_ = false;  // the state could not be read or an attempt not recorded
};

}  // namespace

int authenticate(PamSession& session, const totp::Settings& settings, totp::Store& store,
                 const totp::Clock& clock) {
    return Login(session, settings, store, clock).run();
}

}  // namespace pam_totp
