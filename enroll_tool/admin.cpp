// SPDX-License-Identifier: Apache-2.0
#include "admin.hpp"

#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "recovery_set.hpp"
#include "rollout.hpp"
#include "terminal.hpp"

namespace totp_enroll {
namespace {

std::string iso_time(std::int64_t unix_time) {
    const std::time_t seconds = static_cast<std::time_t>(unix_time);
    std::tm utc{};
    char text[32] = "-";
    if (::gmtime_r(&seconds, &utc) != nullptr) {
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    return text;
}

std::string locked_until(const totp::UserState& state, std::int64_t now) {
    return state.locked_until > now ? iso_time(state.locked_until) : "-";
}

std::string email_text(const totp::UserState& state) {
    if (state.email.empty()) return "-";
    return state.email + (state.email_verified ? " (verified)" : " (not verified)");
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// One authenticator's parameters, replay position and last use: never its secret.
std::vector<std::pair<std::string, std::string>> authenticator_fields(
    const totp::Authenticator& token) {
    std::vector<std::pair<std::string, std::string>> fields{
        {"type", std::string(totp::type_name(token.type))},
        {"algorithm", std::string(totp::algorithm_name(token.params.algorithm))},
        {"digits", std::to_string(token.params.digits)},
    };
    if (token.type == totp::OtpType::hotp) {
        fields.emplace_back("counter", std::to_string(token.counter));
    } else {
        fields.emplace_back("period", std::to_string(token.params.period));
        fields.emplace_back("offset", std::to_string(token.offset));
    }
    fields.emplace_back("last_used", token.last_used > 0 ? iso_time(token.last_used) : "-");
    return fields;
}

std::string list_authenticators(const totp::UserState& state) {
    std::string out;
    for (const totp::Authenticator& token : state.authenticators) {
        if (!out.empty()) out += ";";
        out += token.name + "(";
        bool first = true;
        for (const auto& [key, value] : authenticator_fields(token)) {
            out += (first ? "" : ",") + key + "=" + value;
            first = false;
        }
        out += ")";
    }
    return out;
}

std::string json_authenticators(const totp::UserState& state) {
    std::string out = "[";
    for (const totp::Authenticator& token : state.authenticators) {
        if (out.size() > 1) out += ",";
        out += "{\"name\":" + json_string(token.name) +
               ",\"type\":" + json_string(totp::type_name(token.type)) +
               ",\"algorithm\":" + json_string(totp::algorithm_name(token.params.algorithm)) +
               ",\"digits\":" + std::to_string(token.params.digits);
        if (token.type == totp::OtpType::hotp) {
            out += ",\"counter\":" + std::to_string(token.counter);
        } else {
            out += ",\"period\":" + std::to_string(token.params.period) +
                   ",\"offset\":" + std::to_string(token.offset);
        }
        out += ",\"last_used\":" + std::to_string(token.last_used) + "}";
    }
    return out + "]";
}

std::string list_line(const std::string& user, const totp::UserState& state, std::int64_t now) {
    return user + " authenticators=" + list_authenticators(state) +
           " created=" + iso_time(state.created) +
           " recovery_codes=" + std::to_string(state.recovery.size()) +
           " failures=" + std::to_string(state.failures) +
           " locked_until=" + locked_until(state, now) +
           " email=" + (state.email.empty() ? "-" : state.email) +
           " email_verified=" + (state.email_verified ? "yes" : "no");
}

std::string json_object(const std::string& user, const totp::UserState& state, std::int64_t now) {
    return "{\"user\":" + json_string(user) + ",\"authenticators\":" + json_authenticators(state) +
           ",\"created\":" + std::to_string(state.created) +
           ",\"recovery_codes\":" + std::to_string(state.recovery.size()) +
           ",\"failures\":" + std::to_string(state.failures) + ",\"locked_until\":" +
           std::to_string(state.locked_until > now ? state.locked_until : 0) +
           ",\"email\":" + json_string(state.email) +
           ",\"email_verified\":" + (state.email_verified ? "true" : "false") + "}";
}

// The target of an admin subcommand, with its record open.
totp::Result<OpenRecord> open_target(Session& session, const std::optional<std::string>& user,
                                     Account* account = nullptr) {
    totp::Result<Account> target = session.target(user);
    if (!target) return target.error();
    if (account != nullptr) *account = *target;
    return session.open_enrolled(target->name);
}

}  // namespace

totp::Status show_status(Session& session, const CommandLine& command) {
    Account target;
    totp::UserState state;
    {
        totp::Result<OpenRecord> open = open_target(session, command.status_user, &target);
        if (!open) return open.error();
        state = open->state()->clone();
    }
    session.privileges().drop_permanently();

    const std::int64_t now = session.now();
    say("user: " + target.name);
    say("enrolled: yes");
    for (const totp::Authenticator& token : state.authenticators) {
        say("authenticator: " + token.name);
        for (const auto& [key, value] : authenticator_fields(token)) {
            say("  " + key + ": " + value);
        }
    }
    say("created: " + iso_time(state.created));
    say("recovery codes left: " + std::to_string(state.recovery.size()));
    say("failures: " + std::to_string(state.failures));
    say("locked until: " + locked_until(state, now));
    say("email: " + email_text(state));
    for (const std::string& line : login_policy_lines(session, command)) say(line);
    return {};
}

totp::Status list_enrolled(Session& session, const CommandLine& command) {
    totp::Result<std::vector<std::string>> users = session.enrolled_users();
    if (!users) return users.error();
    const std::int64_t now = session.now();
    std::size_t unreadable = 0;
    std::vector<std::string> lines;
    for (const std::string& user : *users) {
        totp::Result<OpenRecord> open = session.open_record(user);
        if (!open || !open->state()) {
            // Removed meanwhile: not enrolled any more, not an error.
            if (open) continue;
            ++unreadable;
            lines.push_back(command.json ? "{\"user\":" + json_string(user) + ",\"error\":" +
                                               json_string(open.error().message) + "}"
                                         : user + " error=" + json_string(open.error().message));
            continue;
        }
        lines.push_back(command.json ? json_object(user, *open->state(), now)
                                     : list_line(user, *open->state(), now));
    }
    // stdout stays one line (or object) per user, for scripts; the policy goes to the
    // person running it.
    for (const std::string& line : login_policy_lines(session, command)) {
        std::fprintf(stderr, "totp-enroll: %s\n", line.c_str());
    }
    if (command.json) {
        say("[");
        for (std::size_t i = 0; i < lines.size(); ++i) {
            say("  " + lines[i] + (i + 1 < lines.size() ? "," : ""));
        }
        say("]");
    } else {
        for (const std::string& line : lines) say(line);
    }
    if (unreadable > 0) {
        return totp::make_error(totp::Errc::io,
                                std::to_string(unreadable) + " record(s) could not be read");
    }
    return {};
}

totp::Status unlock_user(Session& session, const CommandLine& command) {
    totp::Result<OpenRecord> open = open_target(session, command.user);
    if (!open) return open.error();
    totp::UserState state = open->state()->clone();
    state.failures = 0;
    state.locked_until = 0;
    if (totp::Status saved = open->record->save(state); !saved) {
        return runtime_failure(saved.error());
    }
    say(*command.user + ": unlocked");
    return {};
}

totp::Status remove_user(Session& session, const CommandLine& command) {
    Account target;
    {
        totp::Result<OpenRecord> open = open_target(session, command.user, &target);
        if (!open) return open.error();
        if (totp::Status removed = open->record->remove(); !removed) {
            return runtime_failure(removed.error());
        }
    }
    // The address went with the record: so do the links mailed to it.
    if (totp::Status dropped = session.drop_reset_links(target.name); !dropped) return dropped;
    say(*command.user + ": enrollment removed");
    return {};
}

totp::Status renew_recovery_codes(Session& session, const CommandLine& command) {
    totp::Result<Account> target = session.target(command.user);
    if (!target) return target.error();
    {
        // Fail early for someone not enrolled; closed again before PAM takes the lock.
        totp::Result<OpenRecord> enrolled = session.open_enrolled(target->name);
        if (!enrolled) return enrolled.error();
    }
    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }

    const int count = command.recovery_codes.value_or(session.settings().recovery_codes);
    if (count < 1) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "recovery-codes needs at least 1 code (--recovery-codes N)");
    }
    totp::Result<RecoverySet> recovery = make_recovery_set(count);
    if (!recovery) return recovery.error();
    {
        totp::Result<OpenRecord> open = session.open_enrolled(target->name);
        if (!open) return open.error();
        totp::UserState state = open->state()->clone();
        state.recovery = recovery->hashes;
        if (totp::Status saved = open->record->save(state); !saved) {
            return runtime_failure(saved.error());
        }
    }
    session.privileges().drop_permanently();
    print_recovery_codes(*recovery);
    return {};
}

}  // namespace totp_enroll
