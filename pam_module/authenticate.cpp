// SPDX-License-Identifier: Apache-2.0
#include "authenticate.hpp"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "helper_client.hpp"
#include "totp/account.hpp"
#include "totp/address_prefix.hpp"
#include "totp/attempt.hpp"
#include "totp/group_scope.hpp"
#include "totp/otp.hpp"
#include "totp/secret.hpp"
#include "totp/translation.hpp"
#include "totp/username.hpp"
#include "totp/verify.hpp"

namespace pam_totp {
namespace {

constexpr const char* kCombinedPrompt = N_("Password & verification code: ");
// A recovery code as printed by totp-enroll, XXXX-XXXX-XXXX, typed after the password.
constexpr std::size_t kPrintedRecoveryLength = 14;

bool looks_like_printed_recovery_code(std::string_view text) {
    if (text.size() != kPrintedRecoveryLength || text[4] != '-' || text[9] != '-') return false;
    return totp::normalize_recovery_code(text).has_value();
}

// What sshd hands PAM instead of the typed answer when it will not let the account in by
// keyboard-interactive (root under PermitRootLogin prohibit-password): this pattern,
// repeated to the answer's length (OpenSSH's fake_password(), auth.c). No code or
// recovery code contains these control characters.
bool is_sshd_placeholder(std::string_view answer) {
    constexpr std::string_view kPattern = "\b\n\r\177INCORRECT";
    if (answer.empty()) return false;
    for (std::size_t i = 0; i < answer.size(); ++i) {
        if (answer[i] != kPattern[i % kPattern.size()]) return false;
    }
    return true;
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
        totp::is_code_shaped(combined.substr(combined.size() - code_length), digits)) {
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

// Under try_first_pass, PAM_AUTHTOK is usually the password an earlier module asked for.
// Only a string of exactly the shape of a code (all digits, the user's number of them) or
// of a printed recovery code is worth checking: anything else is a password, and a
// password must never count as a failed code.
bool looks_like_code(std::string_view text, int digits) {
    return totp::is_code_shaped(text, digits) || looks_like_printed_recovery_code(text);
}

class Login {
  public:
    Login(PamSession& session, const totp::Settings& settings, totp::Store& store,
          const totp::Clock& clock)
        : session_(session), settings_(settings), store_(store), clock_(clock) {}

    // A forward_pass line only splits the combined answer: nothing is checked or counted
    // there, before the password module had its say. A later line of the same stack (the
    // first one that finds a code kept for it) checks it.
    int run() {
        if (settings_.forward_pass) return split_only();
        totp::SecretString code;
        switch (session_.take_forwarded_code(code)) {
            case PamSession::Forwarded::none:
                break;
            case PamSession::Forwarded::code:
                forwarded_ = std::move(code);
                break;
            case PamSession::Forwarded::stale:
                // Checked nowhere and counted nowhere: it was not typed in this attempt.
                session_.log(LOG_WARNING,
                             "a code kept by forward_pass belongs to another attempt, refusing");
                return PAM_AUTH_ERR;
        }
        if (from_trusted_network()) {
            session_.log(LOG_INFO, "login from a trusted network, verification code not asked");
            return PAM_IGNORE;
        }
        return check_second_factor();
    }

  private:
    enum class Enrollment { enrolled, not_enrolled, failed };

    // PAM_RHOST is the application's idea of the peer (sshd's, a host name under UseDNS):
    // only a numeric address counts, and a login without one (console, su, sudo) never does.
    // Nor does one from this host itself: any local user can connect from there (ssh to
    // localhost or to the host's own address), and so can anyone whose connection this host
    // forwards (ssh -J, -L), from wherever they are.
    bool from_trusted_network() const {
        if (settings_.trusted_networks.empty()) return false;
        const auto networks = totp::parse_network_prefixes(settings_.trusted_networks);
        const std::string host = session_.remote_host();
        if (!networks || !totp::numeric_address_in_prefixes(host, *networks)) return false;
        if (totp::is_this_hosts_address(host)) {
            session_.log(LOG_NOTICE,
                         "login from this host itself: trusted_networks does not count for it");
            return false;
        }
        return true;
    }

    // The account is looked up on every login, and the record is found by the account, not
    // by the spelling: another name of the same account (an alias line sharing its uid, a
    // case-insensitive directory, user@domain) finds the account's record, so it cannot log
    // in as "not enrolled".
    int check_second_factor() {
        std::optional<totp::Account> login = find_login_account();
        if (!login) return prompt_then_fail();
        if (const std::optional<int> outside = check_group_scope(*login)) return *outside;

        switch (locate_record(*login)) {
            case Enrollment::failed:
                return prompt_then_fail();
            case Enrollment::not_enrolled:
                return refuse_unenrolled();
            case Enrollment::enrolled:
                break;
        }
        // Only this reads the user's own number of digits before the code is typed.
        if (settings_.try_first_pass && !forwarded_) {
            const std::optional<int> digits = read_digits();
            if (!digits) return prompt_then_fail();
            return try_authtok_then_prompt(*digits);
        }
        return check_input();
    }

    // The passwd entry of the login name; nullopt (logged) when there is none, the lookup
    // failed or a name is unsafe.
    std::optional<totp::Account> find_login_account() {
        if (const totp::Status name = totp::check_username(session_.user()); !name) {
            session_.log_plain(LOG_WARNING, "refusing unsafe user name: " + name.error().message);
            return std::nullopt;
        }
        return checked_account(totp::find_account(session_.user()));
    }

    // The account's own entry: the one NSS gives for the login name's uid (with several
    // names for one uid, the first). Looked up once, only when needed.
    const totp::Account* find_owner(const totp::Account& login) {
        if (!owner_) owner_ = checked_account(totp::find_account(login.uid));
        return owner_ ? &*owner_ : nullptr;
    }

    std::optional<totp::Account> checked_account(totp::Result<totp::Account> account) {
        if (!account) {
            if (account.error().code == totp::Errc::not_found) {
                session_.log(LOG_NOTICE, "authentication failure: unknown user");
            } else {
                session_.log(LOG_ERR, "user lookup failed (" + account.error().message +
                                          "), failing closed");
            }
            return std::nullopt;
        }
        if (const totp::Status name = totp::check_username(account->name); !name) {
            session_.log_plain(LOG_WARNING,
                               "refusing unsafe account name: " + name.error().message);
            return std::nullopt;
        }
        return std::move(*account);
    }

    // Picks the record this login checks (account_name_): a record belongs to the account
    // (the uid), under any of its names. Tried in order: the name NSS gave for the login
    // name (one lookup for a user who logs in by the name they enrolled under), the
    // account's own name (the uid's entry), and, only when neither is enrolled, every other
    // name /etc/passwd gives the uid (an alias line may come before the enrolled one). Not
    // enrolled only when no name of the account has a record; a record that cannot be
    // read under any of them fails closed.
    Enrollment locate_record(const totp::Account& login) {
        std::vector<std::string> tried{login.name};
        if (const std::optional<Enrollment> found = try_record(login.name)) return *found;
        const totp::Account* owner = find_owner(login);
        if (owner == nullptr) return Enrollment::failed;
        if (owner->name != login.name) {
            tried.push_back(owner->name);
            if (const std::optional<Enrollment> found = try_record(owner->name)) return *found;
        }
        const totp::Result<std::vector<std::string>> others = totp::local_names_of(login.uid);
        if (!others) {
            session_.log(LOG_ERR, "cannot list the account's names (" + others.error().message +
                                      "), failing closed");
            return Enrollment::failed;
        }
        for (const std::string& name : *others) {
            if (std::find(tried.begin(), tried.end(), name) != tried.end()) continue;
            if (!totp::check_username(name)) continue;  // never a record of ours
            tried.push_back(name);
            if (const std::optional<Enrollment> found = try_record(name)) return *found;
        }
        return Enrollment::not_enrolled;
    }

    // enrolled / failed for `name`'s record (then account_name_ is set); nullopt: none.
    std::optional<Enrollment> try_record(const std::string& name) {
        const totp::Result<bool> enrolled = store_.enrolled(name);
        if (!enrolled) return store_failure(enrolled.error());
        if (!*enrolled) return std::nullopt;
        account_name_ = name;
        session_.set_account_name(account_name_);
        if (account_name_ != session_.user()) {
            session_.log(LOG_NOTICE,
                         "login name is another name of this account: checking its code");
        }
        return Enrollment::enrolled;
    }

    Enrollment store_failure(const totp::Error& error) {
        session_.log(LOG_ERR, store_failure_line("cannot use state", error, settings_));
        return Enrollment::failed;
    }

    int refuse_unenrolled() {
        if (settings_.nullok) {
            if (settings_.debug) session_.log(LOG_DEBUG, "not enrolled, nullok: ignoring");
            return PAM_IGNORE;
        }
        session_.log(LOG_NOTICE, "authentication failure: not enrolled");
        return prompt_then_fail();
    }

    // forward_pass: one question for password and code. The password goes on as
    // PAM_AUTHTOK for the password module (use_first_pass); the code is kept for the
    // checking line. Returns PAM_IGNORE, so this line can never make a stack succeed.
    int split_only() {
        std::optional<totp::SecretString> combined =
            session_.ask_hidden(totp::translate(kCombinedPrompt));
        if (!combined) {
            session_.log(LOG_ERR, "conversation failed");
            return PAM_CONV_ERR;
        }
        SplitInput split;
        if (const std::optional<int> digits = digits_to_split()) {
            split = split_password_and_code(combined->view(), *digits);
        } else {
            split.password = std::move(*combined);
        }
        if (!session_.set_authtok(split.password) ||
            !session_.keep_forwarded_code(std::move(split.code), split.password)) {
            session_.log(LOG_ERR, "cannot hand the password on, failing closed");
            return PAM_AUTH_ERR;
        }
        return PAM_IGNORE;
    }

    // How many digits to split off: the enrolled user's own, or nullopt when the account is
    // known not to be enrolled or logs in from a trusted network (everything typed is the
    // password, so a rollout with nullok works). When in doubt, the configured digits; the
    // checking line then fails closed.
    std::optional<int> digits_to_split() {
        if (from_trusted_network()) return std::nullopt;  // the checking line asks no code
        const int fallback = settings_.params.digits;
        const std::optional<totp::Account> login = find_login_account();
        if (!login) return fallback;
        switch (locate_record(*login)) {
            case Enrollment::failed:
                return fallback;
            case Enrollment::not_enrolled:
                return std::nullopt;
            case Enrollment::enrolled:
                break;
        }
        return read_digits().value_or(fallback);
    }

    // The enrolled user's number of digits (of the first authenticator, when several differ);
    // nullopt (logged) when the state cannot be used. The lock is not kept while the user
    // types: a slow client must not block others.
    std::optional<int> read_digits() {
        // A caller that is not root cannot read the record: its helper checks codes of any
        // length, so the configured number of digits only shapes what is tried as a code.
        if (::geteuid() != 0) return settings_.params.digits;
        auto record = store_.open(account_name_);
        if (!record) {
            store_failure(record.error());
            return std::nullopt;
        }
        if (!(*record)->state()) {
            session_.log(LOG_NOTICE, "authentication failure: enrollment removed during login");
            return std::nullopt;
        }
        return (*record)->state()->authenticators.front().params.digits;
    }

    // Scoping by group: PAM_IGNORE for users outside it, a failure if the group is
    // missing (a typo must not silently exempt everybody), nothing to say otherwise. Both
    // the login name's entry and the account's own entry are looked at, each way toward
    // asking: either one in require_group requires the code, and exempt_group exempts only
    // when both are in it (an alias line's own gid must not exempt the account).
    std::optional<int> check_group_scope(const totp::Account& login) {
        if (settings_.require_group.empty() && settings_.exempt_group.empty()) return std::nullopt;
        const totp::Account* owner = find_owner(login);
        if (owner == nullptr) return PAM_AUTH_ERR;
        const totp::Result<totp::CodeScope> scope = totp::code_scope(settings_, login, *owner);
        if (!scope) {
            session_.log(LOG_ERR, scope.error().message + ", failing closed");
            return PAM_SERVICE_ERR;
        }
        switch (*scope) {
            case totp::CodeScope::asked:
                return std::nullopt;
            case totp::CodeScope::not_required:
                if (settings_.debug) session_.log(LOG_DEBUG, "not in require_group, ignoring");
                return PAM_IGNORE;
            case totp::CodeScope::exempt:
                if (settings_.debug) session_.log(LOG_DEBUG, "in exempt_group, ignoring");
                return PAM_IGNORE;
        }
        return PAM_SERVICE_ERR;
    }

    // The built-in prompt in the user's language; one the administrator set, as written.
    std::string code_prompt() const { return totp::translate(settings_.prompt.c_str()); }

    // The code, from where the settings say. nullopt: the conversation failed.
    std::optional<totp::SecretString> obtain_input() {
        if (forwarded_) return std::exchange(forwarded_, std::nullopt);
        if (settings_.use_first_pass) {
            std::optional<totp::SecretString> token = session_.authtok();
            return token ? std::move(token) : totp::SecretString();
        }
        return session_.ask_hidden(code_prompt());
    }

    int try_authtok_then_prompt(int digits) {
        if (std::optional<totp::SecretString> token = session_.authtok();
            token && looks_like_code(token->view(), digits)) {
            const int rc = check(std::move(token));
            // Only a code that was examined, refused and recorded leads on to the prompt: a
            // state that could not be read or written fails the login here (fail closed).
            if (rc != PAM_AUTH_ERR || store_failed_) return rc;
        }
        return check_answer(session_.ask_hidden(code_prompt()));
    }

    // The code from where the settings say: a code kept by forward_pass or PAM_AUTHTOK
    // (use_first_pass) is checked as it is; an answer to the prompt, unless it is the password.
    int check_input() {
        if (forwarded_ || settings_.use_first_pass) return check(obtain_input());
        return check_answer(session_.ask_hidden(code_prompt()));
    }

    // sshd's password authentication (PasswordAuthentication without keyboard-interactive)
    // answers every hidden prompt with the password: it cannot ask a second question. Such
    // an answer, like sshd's placeholder for an answer it withholds, is refused before it
    // is examined: it must not count toward the lockout
    // (five ssh attempts would lock the user out of sudo and su too), use anything up, or
    // be accepted when the password happens to be a valid code.
    int check_answer(std::optional<totp::SecretString> answer) {
        if (answer && is_sshd_placeholder(answer->view())) {
            session_.log(LOG_WARNING,
                         "sshd replaced the answer to the code prompt: it does not let this "
                         "account log in this way (root under PermitRootLogin prohibit-password, "
                         "see pam_totp(8)), refused without counting it");
            return PAM_AUTH_ERR;
        }
        if (answer && is_this_attempts_password(*answer)) {
            answer->clear();
            session_.log(LOG_WARNING,
                         "the conversation answered the code prompt with the password (sshd "
                         "with PasswordAuthentication but without KbdInteractiveAuthentication "
                         "cannot ask for a code, see pam_totp(8)), refused without counting it");
            return PAM_AUTH_ERR;
        }
        return check(std::move(answer));
    }

    // Whether the answer is the password this attempt set as PAM_AUTHTOK (libpam clears the
    // item when pam_authenticate() returns, so it is never an earlier attempt's).
    bool is_this_attempts_password(const totp::SecretString& answer) const {
        const std::optional<totp::SecretString> password = session_.authtok();
        return password && !password->view().empty() &&
               totp::equal_constant_time(answer.view(), password->view());
    }

    // Ask exactly as for an enrolled user, then fail: the conversation must not tell an
    // unknown or unenrolled user apart from one who typed a wrong code.
    int prompt_then_fail() {
        std::optional<totp::SecretString> ignored = obtain_input();
        return ignored ? PAM_AUTH_ERR : PAM_CONV_ERR;
    }

    int check(std::optional<totp::SecretString> input) {
        if (!input) {
            session_.log(LOG_ERR, "conversation failed");
            return PAM_CONV_ERR;
        }
        if (::geteuid() != 0) return check_through_helper(std::move(*input));
        const std::int64_t now = clock_.now();
        const totp::Policy policy = totp::login_policy(settings_);
        const totp::Attempt attempt =
            totp::check_and_record(store_, account_name_, input->view(), policy, now);
        input->clear();
        switch (attempt.stage) {
            case totp::Attempt::Stage::checked:
                return report(attempt, policy, now);
            case totp::Attempt::Stage::not_opened:
                store_failure(attempt.error);
                break;
            case totp::Attempt::Stage::not_enrolled:
                session_.log(LOG_NOTICE, "authentication failure: enrollment removed during login");
                break;
            case totp::Attempt::Stage::not_recorded:
                session_.log(LOG_ERR, "cannot record the attempt (" + attempt.error.message +
                                          "), failing closed");
                break;
        }
        store_failed_ = true;
        return PAM_AUTH_ERR;
    }

    // A caller that is not root cannot open the record: the setuid helper checks the code
    // and records the attempt under root's configuration (totp-verify(8)); it says only yes
    // or no, and logs the details itself.
    int check_through_helper(totp::SecretString input) {
        const HelperAnswer answer = ask_verify_helper(account_name_, input);
        input.clear();
        switch (answer.kind) {
            case HelperAnswer::Kind::accepted:
                session_.log(LOG_INFO, "accepted verification code (checked by totp-verify)");
                return PAM_SUCCESS;
            case HelperAnswer::Kind::refused:
                session_.log(LOG_NOTICE, "verification code refused by totp-verify");
                return PAM_AUTH_ERR;
            case HelperAnswer::Kind::failed:
                break;
        }
        session_.log(LOG_ERR, answer.problem + " (the caller runs as uid " +
                                  std::to_string(::geteuid()) + "), failing closed");
        store_failed_ = true;
        return PAM_AUTH_ERR;
    }

    // Only after a recovery code was accepted and recorded: the user has proved a second
    // factor, so the count tells nothing about whether an account exists or is enrolled.
    void tell_recovery_codes_left(std::size_t left) {
        if (left == 0) {
            session_.warn(totp::translate(
                "That was your last recovery code. Run \"totp-enroll recovery-codes\" to make "
                "new ones."));
            return;
        }
        session_.inform(
            totp::translate_count("%d recovery code left.", "%d recovery codes left.", left));
    }

    // The lines every checker of codes writes (core's attempt_log_lines), then the answer;
    // the user hears how many recovery codes are left.
    int report(const totp::Attempt& attempt, const totp::Policy& policy, std::int64_t now) {
        for (const totp::AttemptLine& line :
             totp::attempt_log_lines(attempt, policy, now, settings_.debug)) {
            session_.log(line.priority, line.text);
        }
        switch (attempt.decision.verdict) {
            case totp::Verdict::accepted_code:
                return PAM_SUCCESS;
            case totp::Verdict::accepted_recovery:
                tell_recovery_codes_left(attempt.state.recovery.size());
                return PAM_SUCCESS;
            case totp::Verdict::locked:
                return PAM_MAXTRIES;
            case totp::Verdict::replayed:
            case totp::Verdict::wrong:
                break;
        }
        return PAM_AUTH_ERR;
    }

    PamSession& session_;
    const totp::Settings& settings_;
    totp::Store& store_;
    const totp::Clock& clock_;
    std::optional<totp::Account> owner_;           // the uid's own entry, once looked up
    std::string account_name_;                     // the record's name: the store's key
    std::optional<totp::SecretString> forwarded_;  // the code a forward_pass line kept
    bool store_failed_ = false;  // the state could not be read or an attempt not recorded
};

}  // namespace

std::string store_failure_line(const std::string& what, const totp::Error& error,
                               const totp::Settings& settings) {
    std::string line = what + " (" + error.message + "), failing closed";
    const uid_t uid = ::geteuid();
    const bool files = settings.store == "files";
    if (uid == 0 || (files && error.code != totp::Errc::not_permitted)) return line;
    line += ": the caller runs as uid " + std::to_string(uid) + " and cannot read the record";
    if (!files) {
        line += " (with store = " + settings.store + ", callers that are not root always fail)";
    } else if (!settings.secret_path.empty()) {
        line += " (with secret_path, only root and the account itself can)";
    }
    return line +
           "; a caller that is not root finds records through a state directory others may "
           "search (mode 0711) and checks codes through totp-verify, see pam_totp(8)";
}

int authenticate(PamSession& session, const totp::Settings& settings, totp::Store& store,
                 const totp::Clock& clock) {
    return Login(session, settings, store, clock).run();
}

}  // namespace pam_totp
