// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL store. A Record is one transaction on its own connection: open() takes
// the user's row lock (SELECT ... FOR UPDATE, plus a transaction-scoped advisory lock so
// a user who has no row yet is locked too) and holds it until save() commits or the
// Record is destroyed, so open -> decide -> save is exact across every server. The
// update that accepts a time step is also conditional on the step moving forward.
#include "pg_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg_crypto.hpp"
#include "pg_migrations.hpp"
#include "pg_session.hpp"
#include "totp/hex.hpp"
#include "totp/reset_token.hpp"
#include "totp/store.hpp"
#include "totp/text.hpp"
#include "totp/user_state.hpp"
#include "totp/username.hpp"

namespace totp::pg {
namespace {

// A login's whole exchange once connected (its transaction, from the schema check to the
// commit's answer) ends by this client-side deadline, whatever the server does: a commit that
// waits for a synchronous standby that is gone is not ended by statement_timeout. Past it the
// statement is cancelled and the login fails closed (pg_session.hpp).
constexpr std::chrono::milliseconds kExchangeDeadline{8000};
// An admin's schema upgrade may take long; it is bounded too.
constexpr std::chrono::milliseconds kUpgradeDeadline{600000};

// A statement that waits for a lock, or runs, longer than these is ended by the server within
// the deadline, with the server's reason in the log line: one LOCK TABLE by the role would
// otherwise hold every login up to the deadline. The lock timeout is the shorter, so that a
// lock wait is reported as one.
constexpr int kLockTimeoutMs = 6000;
constexpr int kStatementTimeoutMs = 7000;
// How often a backend running a statement of ours checks that we are still connected, so that
// the work of a login that gave up at its deadline (or died) is ended on the server too.
constexpr int kClientCheckIntervalMs = 2000;

// Anyone may run the setuid totp-enroll and stop it (SIGSTOP) while it holds a connection;
// enough stopped copies would take every connection slot and fail logins closed fleet-wide.
// The server ends a session of ours that sits idle this long. Our transactions wait on no
// human (a record is never open across a prompt): between their statements there is only
// computation, milliseconds. Inside a transaction the limit is below kLockTimeoutMs, so a
// login waiting for the row lock of a stopped process outlives that process's session. Out
// of one, it is what a stopped process can hold a slot for; a long-lived process whose
// session was ended reconnects (PgStore::query), and a Record's next transaction fails closed.
constexpr int kIdleInTransactionTimeoutMs = 5000;
constexpr int kIdleSessionTimeoutMs = 5000;  // PostgreSQL 14 or later
// How recently the kept connection must have answered for a Record to take it over: well
// inside kIdleSessionTimeoutMs (and PgBouncer's client_idle_timeout).
constexpr std::chrono::milliseconds kReuseWindow{1000};

// No server answered within the timeout (refused, timed out, or TLS verification failed
// before the server said anything): Errc::unavailable, on which a break-glass user may fall
// back to the file store.
Error unreachable(PGconn* conn, int timeout) {
    return make_error(Errc::unavailable, "database unreachable (store_connect_timeout " +
                                             std::to_string(timeout) +
                                             " s): " + one_line(PQerrorMessage(conn)));
}

// A server answered and refused us (wrong password, role not allowed, too many clients,
// starting up): Errc::io, and the login fails closed. Whoever can change the fleet role's
// password must not thereby move every server's break-glass users to their local files.
Error refused(PGconn* conn) {
    return make_error(Errc::io,
                      "database refused the connection: " + one_line(PQerrorMessage(conn)));
}

// The value libpq parsed for `keyword`, or null if the connection string does not set it.
const char* parsed_value(const PQconninfoOption* parsed, std::string_view keyword) {
    for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
        if (keyword == option->keyword) return option->val;
    }
    return nullptr;
}

// What is wrong with a parsed store_dsn, or nothing. The config file may be readable by
// others, so it must not hold a password; and libpq's messages quote a bad host or port,
// which in a mistyped URI (postgresql://u:pa/ss@host, postgresql://u:p@ss@host) is a
// piece of the password.
const char* dsn_fault(const PQconninfoOption* parsed) {
    if (parsed_value(parsed, "password") != nullptr) {
        return "store_dsn must not hold a password; use store_password_file";
    }
    if (parsed_value(parsed, "sslpassword") != nullptr) {
        return "store_dsn must not hold the client key's sslpassword; use a key without one";
    }
    const std::string_view port = parsed_value(parsed, "port") ? parsed_value(parsed, "port") : "";
    if (port.find_first_not_of("0123456789,") != std::string_view::npos) {
        return "store_dsn has a port that is not a number";
    }
    const std::string_view host = parsed_value(parsed, "host") ? parsed_value(parsed, "host") : "";
    if (host.find('@') != std::string_view::npos) return "store_dsn has a host name with '@' in it";
    return nullptr;
}

// libpq's parse errors quote the text around the fault, so a DSN that does not parse is
// refused here without them, and so is one that dsn_fault() finds wrong. (A DSN with no
// '=' that is not a URI is a plain database name to libpq.)
Status check_dsn(const std::string& dsn) {
    const bool conninfo = dsn.find('=') != std::string::npos || dsn.starts_with("postgresql://") ||
                          dsn.starts_with("postgres://");
    if (!conninfo) return {};
    char* message = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &message);
    PQfreemem(message);
    if (parsed == nullptr) {
        return make_error(Errc::invalid_argument,
                          "store_dsn is not a valid libpq connection string or URI");
    }
    const char* fault = dsn_fault(parsed);
    PQconninfoFree(parsed);
    if (fault != nullptr) return make_error(Errc::invalid_argument, fault);
    return {};
}

// libpq takes defaults from PGHOST, PGUSER, PGSSLMODE, ... A user can set those for `su`
// and point a privileged process at a database of theirs, so with any of them set we
// refuse rather than guess which the admin meant.
Status check_environment() {
    PQconninfoOption* defaults = PQconndefaults();
    if (defaults == nullptr) return make_error(Errc::io, "libpq: out of memory");
    std::optional<std::string> set;
    for (PQconninfoOption* option = defaults; option->keyword != nullptr; ++option) {
        if (option->envvar != nullptr && std::getenv(option->envvar) != nullptr) {
            set = option->envvar;
            break;
        }
    }
    PQconninfoFree(defaults);
    for (const char* name : {"PGSERVICEFILE", "PGSYSCONFDIR"}) {
        if (!set && std::getenv(name) != nullptr) set = name;
    }
    if (set) {
        return make_error(Errc::unsafe, "environment variable " + *set +
                                            " is set; the store takes every connection "
                                            "parameter from store_dsn only, refusing");
    }
    return {};
}

// Whether the failed connection `conn` (made with `keys` and `values`) got as far as a
// server that answered. A timeout means none did. Otherwise libpq's ping, with the same
// parameters, tells a server that sent an error (PQPING_OK, PQPING_REJECT) from none
// (PQPING_NO_RESPONSE). A certificate that fails sslmode=verify-full is rejected by libpq
// before the server says anything, so it counts as no answer: to the client, an impostor
// is no better than a silent network.
bool server_answered(PGconn* conn, const std::vector<const char*>& keys,
                     const std::vector<const char*>& values) {
    if (std::string_view(PQerrorMessage(conn)).find("timeout expired") != std::string_view::npos)
        return false;
    return PQpingParams(keys.data(), values.data(), /*expand_dbname=*/1) != PQPING_NO_RESPONSE;
}

// Through a pooler in transaction mode (docs/fleet.md) the startup options do not reach the
// server, and a SET would stay on the server connection for whoever borrows it next: each
// transaction of a login sets the limits it relies on again, for itself only.
std::string begin_transaction() {
    return "BEGIN; SET LOCAL lock_timeout = " + std::to_string(kLockTimeoutMs) +
           "; SET LOCAL statement_timeout = " + std::to_string(kStatementTimeoutMs) +
           "; SET LOCAL idle_in_transaction_session_timeout = " +
           std::to_string(kIdleInTransactionTimeoutMs) +
           "; SET LOCAL client_connection_check_interval = " +
           std::to_string(kClientCheckIntervalMs);
}

// The server options for our sessions: the DSN's own `options`, if any, then our timeouts,
// which the server applies last and so override any the DSN sets. (A server older than
// PostgreSQL 14 refuses the unknown idle_session_timeout, and logins fail closed.)
std::string session_options(const std::string& dsn) {
    std::string options;
    PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), nullptr);
    if (parsed != nullptr) {
        const char* own = parsed_value(parsed, "options");
        if (own != nullptr && *own != '\0') options = std::string(own) + " ";
        PQconninfoFree(parsed);
    }
    return options + "-c statement_timeout=" + std::to_string(kStatementTimeoutMs) +
           "ms -c lock_timeout=" + std::to_string(kLockTimeoutMs) +
           "ms -c idle_in_transaction_session_timeout=" +
           std::to_string(kIdleInTransactionTimeoutMs) +
           "ms -c idle_session_timeout=" + std::to_string(kIdleSessionTimeoutMs) +
           "ms -c client_connection_check_interval=" + std::to_string(kClientCheckIntervalMs) +
           "ms";
}

}  // namespace

Result<Connection> connect(const Options& options) {
    if (Status clean = check_environment(); !clean) return clean.error();
    if (Status valid = check_dsn(options.dsn); !valid) return valid.error();
    // After the DSN in the arrays, so these override whatever it says. Keepalives and
    // tcp_user_timeout notice a peer gone without a reset while we wait on it.
    const std::string timeout = std::to_string(options.connect_timeout);
    const std::string user_timeout = std::to_string(kStatementTimeoutMs);
    const std::string server_options = session_options(options.dsn);
    std::vector<std::pair<const char*, const char*>> params{
        {"dbname", options.dsn.c_str()},
        {"connect_timeout", timeout.c_str()},
        {"keepalives", "1"},
        {"keepalives_idle", "5"},
        {"keepalives_interval", "2"},
        {"keepalives_count", "3"},
        {"tcp_user_timeout", user_timeout.c_str()},
        {"options", server_options.c_str()},
    };
    if (!options.password.empty()) params.emplace_back("password", options.password.c_str());
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [key, value] : params) {
        keys.push_back(key);
        values.push_back(value);
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    Connection conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
    if (!conn) return make_error(Errc::io, "database: out of memory");
    if (PQstatus(conn.get()) == CONNECTION_OK) return conn;
    if (!server_answered(conn.get(), keys, values))
        return unreachable(conn.get(), options.connect_timeout);
    return refused(conn.get());
}

namespace {

// Server is 9.0+, so bytea travels as "\x" followed by hex digits.
std::string to_bytea(std::span<const std::uint8_t> data) {
    return "\\x" + hex_encode(data);
}

// PostgreSQL's hex output is lowercase; its input, and so a value an administrator wrote,
// may be either case.
std::optional<std::vector<std::uint8_t>> from_bytea(std::string_view text) {
    if (!text.starts_with("\\x") || text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> data((text.size() - 2) / 2);
    if (!hex_decode(text.substr(2), data, HexLetters::either_case)) return std::nullopt;
    return data;
}

template <class Int>
std::optional<Int> to_int(std::string_view text) {
    Int value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string secret_context(std::string_view user, const OtpParams& params) {
    return "pam_totp/v1/secret/" + std::string(algorithm_name(params.algorithm)) + "/" +
           std::to_string(params.digits) + "/" + std::to_string(params.period) + "/" +
           std::string(user);
}

std::string recovery_context(std::string_view user) {
    return "pam_totp/v1/recovery/" + std::string(user);
}

// The oldest schema this build reads and writes. Servers are upgraded before the schema
// (docs/fleet.md): a fleet half on the new package keeps working on the old schema, and
// the schema is upgraded once every server runs a build that knows the new one. On schema 1
// the count of verification mails (email_mails, schema 2) cannot be kept: saving a record
// that has one is refused with a line saying to upgrade the schema. Before schema 3 the row
// holds one TOTP authenticator, and a record with more is refused the same way.
constexpr int kOldestSchemaVersion = 1;
constexpr int kSchemaWithEmailMails = 2;
constexpr int kSchemaWithAuthenticators = 3;

// The statements on pam_totp_users for one schema version.
struct UserStatements {
    std::string select;
    std::string insert;
    std::string update_advancing;  // after the columns: the step and authenticators we read
    std::string update_other;
};

UserStatements make_user_statements(int schema) {
    const bool mails = schema >= kSchemaWithEmailMails;
    const bool tokens = schema >= kSchemaWithAuthenticators;
    const std::string columns =
        "algorithm, digits, period, secret, last_step, failures, locked_until, recovery, "
        "created, email, email_verified" +
        std::string(mails ? ", email_mails, email_mails_since" : "") +
        std::string(tokens ? ", authenticators" : "");
    const int values = 12 + (mails ? 2 : 0) + (tokens ? 1 : 0);  // $1 is the user name
    const std::string set =
        "SET algorithm = $2, digits = $3, period = $4, secret = $5, last_step = $6, "
        "failures = $7, locked_until = $8, recovery = $9, created = $10, email = $11, "
        "email_verified = $12" +
        std::string(mails ? ", email_mails = $13, email_mails_since = $14" : "") +
        std::string(tokens ? ", authenticators = $15" : "") + ", updated = now() ";
    std::string placeholders;
    for (int i = 2; i <= values; ++i) placeholders += ", $" + std::to_string(i);
    const std::string read_step = "$" + std::to_string(values + 1);
    // Every authenticator's replay state is in the sealed column: it must be as we read it.
    const std::string read_tokens = tokens ? " AND $" + std::to_string(values + 2) +
                                                 "::bytea IS NOT DISTINCT FROM authenticators"
                                           : "";
    // A step that moves forward must still be newer than the stored one (no other server
    // used it); anything else must find the row as we read it.
    return {
        "SELECT " + columns + " FROM pam_totp_users WHERE username = $1 FOR UPDATE",
        "INSERT INTO pam_totp_users (username, " + columns + ") VALUES ($1" + placeholders + ")",
        "UPDATE pam_totp_users " + set +
            "WHERE username = $1 AND (last_step IS NULL OR last_step < $6::bigint) AND " +
            read_step + "::bigint IS NOT DISTINCT FROM last_step" + read_tokens,
        "UPDATE pam_totp_users " + set + "WHERE username = $1 AND " + read_step +
            "::bigint IS NOT DISTINCT FROM last_step" + read_tokens,
    };
}

const UserStatements& user_statements(int schema) {
    static const UserStatements with_tokens = make_user_statements(kSchemaWithAuthenticators);
    static const UserStatements with_mails = make_user_statements(kSchemaWithEmailMails);
    static const UserStatements without = make_user_statements(kOldestSchemaVersion);
    if (schema >= kSchemaWithAuthenticators) return with_tokens;
    return schema >= kSchemaWithEmailMails ? with_mails : without;
}

std::string authenticators_context(std::string_view user) {
    return "pam_totp/v1/authenticators/" + std::string(user);
}

// The sealed authenticators column: every authenticator line, '\n' between them.
Result<std::vector<std::uint8_t>> seal_authenticators(const UserState& state, std::string_view user,
                                                      const SecretBytes& key) {
    SecretString lines;
    for (const Authenticator& token : state.authenticators) {
        if (!lines.empty()) lines.append("\n");
        lines.append(format_authenticator(token).view());
    }
    return seal(key, authenticators_context(user),
                {reinterpret_cast<const std::uint8_t*>(lines.c_str()), lines.size()});
}

Result<std::vector<Authenticator>> unseal_authenticators(std::string_view column,
                                                         std::string_view user,
                                                         const SecretBytes& key) {
    const auto sealed = from_bytea(column);
    if (!sealed) return make_error(Errc::corrupt, "bad authenticators column");
    Result<SecretBytes> plain = unseal(key, authenticators_context(user), *sealed);
    if (!plain) return plain.error();
    std::vector<Authenticator> tokens;
    std::string_view text(reinterpret_cast<const char*>(plain->data()), plain->size());
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        Result<Authenticator> token = parse_authenticator(text.substr(0, end));
        if (!token) return make_error(Errc::corrupt, "authenticators: " + token.error().message);
        tokens.push_back(std::move(*token));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return tokens;
}

// The columns algorithm .. last_step hold the first authenticator (on schema 3 also in the
// authenticators column, with the others). Before schema 3 they are all there is: a record
// with more than one TOTP authenticator without a clock offset cannot be stored.
Result<const Authenticator*> row_authenticator(const UserState& state, int schema) {
    const Authenticator& token = state.authenticators.front();
    if (schema < kSchemaWithAuthenticators &&
        (state.authenticators.size() != 1 || token.type != OtpType::totp || token.offset != 0)) {
        return make_error(Errc::unsupported,
                          "database schema version " + std::to_string(schema) +
                              " holds one TOTP authenticator per user: run totp-enroll "
                              "db-upgrade");
    }
    return &token;
}

std::optional<std::uint64_t> row_step(const UserState& state) {
    return state.authenticators.front().last_step;
}

bool same_replay_state(const UserState& a, const UserState& b) {
    if (a.authenticators.size() != b.authenticators.size()) return false;
    for (std::size_t i = 0; i < a.authenticators.size(); ++i) {
        const Authenticator& x = a.authenticators[i];
        const Authenticator& y = b.authenticators[i];
        if (x.name != y.name || x.last_step != y.last_step || x.counter != y.counter ||
            x.offset != y.offset) {
            return false;
        }
    }
    return true;
}

// One row of user_statements(schema).select, decrypted and validated.
Result<UserState> decode_row(const PGresult* row, std::string_view user, const SecretBytes& key,
                             int schema) {
    const auto field = [&](int column) -> std::string_view {
        return {PQgetvalue(row, 0, column), static_cast<std::size_t>(PQgetlength(row, 0, column))};
    };
    const auto corrupt = [&](const std::string& why) {
        return make_error(Errc::corrupt, "database record of " + std::string(user) + ": " + why);
    };
    UserState state;
    Authenticator token;
    token.name = std::string(kDefaultAuthenticatorName);
    const auto algorithm = parse_algorithm(field(0));
    const auto digits = to_int<int>(field(1));
    const auto period = to_int<int>(field(2));
    if (!algorithm || !digits || !period) return corrupt("bad OTP parameters");
    token.params = OtpParams{*algorithm, *digits, *period};

    const auto secret = from_bytea(field(3));
    if (!secret) return corrupt("bad secret column");
    Result<SecretBytes> plain = unseal(key, secret_context(user, token.params), *secret);
    if (!plain) return corrupt(plain.error().message);
    token.secret = std::move(*plain);

    if (!PQgetisnull(row, 0, 4)) {
        const auto step = to_int<std::uint64_t>(field(4));
        if (!step) return corrupt("bad last_step");
        token.last_step = *step;
    }
    state.authenticators.push_back(std::move(token));
    const auto failures = to_int<std::uint32_t>(field(5));
    const auto locked_until = to_int<std::int64_t>(field(6));
    const auto created = to_int<std::int64_t>(field(8));
    if (!failures || !locked_until || !created) return corrupt("bad counters");
    state.failures = *failures;
    state.locked_until = *locked_until;
    state.created = *created;

    const auto recovery = from_bytea(field(7));
    if (!recovery) return corrupt("bad recovery column");
    Result<SecretBytes> lines = unseal(key, recovery_context(user), *recovery);
    if (!lines) return corrupt(lines.error().message);
    std::string_view text(reinterpret_cast<const char*>(lines->data()), lines->size());
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::optional<RecoveryHash> hash = parse_recovery_hash(text.substr(0, end));
        if (!hash) return corrupt("bad recovery hash");
        state.recovery.push_back(*hash);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    state.email = std::string(field(9));
    state.email_verified = field(10) == "t";
    if (schema >= kSchemaWithEmailMails) {
        const auto mails = to_int<std::uint32_t>(field(11));
        const auto mails_since = to_int<std::int64_t>(field(12));
        if (!mails || !mails_since) return corrupt("bad email mail count");
        state.email_mails = *mails;
        state.email_mails_since = *mails_since;
    }
    // Rows written before schema 3 have none: their one authenticator is the columns above.
    if (schema >= kSchemaWithAuthenticators && !PQgetisnull(row, 0, 13)) {
        Result<std::vector<Authenticator>> tokens = unseal_authenticators(field(13), user, key);
        if (!tokens) return corrupt(tokens.error().message);
        state.authenticators = std::move(*tokens);
    }
    if (Status valid = validate(state); !valid) return corrupt(valid.error().message);
    return state;
}

// The columns of a state, encrypted where they must be: $2 .. $12 (schema 1) or $14 of the
// writes above.
Result<std::vector<std::optional<std::string>>> encode_row(const UserState& state,
                                                           std::string_view user,
                                                           const SecretBytes& key, int schema) {
    if (Status valid = validate(state); !valid) return valid.error();
    if (schema < kSchemaWithEmailMails && state.email_mails > 0) {
        return make_error(Errc::unsupported,
                          "database schema version " + std::to_string(schema) +
                              " cannot keep the count of verification mails: run "
                              "totp-enroll db-upgrade");
    }
    Result<const Authenticator*> token = row_authenticator(state, schema);
    if (!token) return token.error();
    const Authenticator& only = **token;
    if (only.last_step &&
        *only.last_step > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return make_error(Errc::invalid_argument, "last_step out of range");
    }
    Result<std::vector<std::uint8_t>> secret =
        seal(key, secret_context(user, only.params), only.secret.span());
    if (!secret) return secret.error();
    std::string lines;
    for (const RecoveryHash& hash : state.recovery) {
        if (!lines.empty()) lines += '\n';
        lines += format_recovery_hash(hash);
    }
    Result<std::vector<std::uint8_t>> recovery =
        seal(key, recovery_context(user),
             {reinterpret_cast<const std::uint8_t*>(lines.data()), lines.size()});
    if (!recovery) return recovery.error();
    std::vector<std::optional<std::string>> columns{
        std::string(user),
        std::string(algorithm_name(only.params.algorithm)),
        std::to_string(only.params.digits),
        std::to_string(only.params.period),
        to_bytea(*secret),
        only.last_step ? std::optional(std::to_string(*only.last_step)) : std::nullopt,
        std::to_string(state.failures),
        std::to_string(state.locked_until),
        to_bytea(*recovery),
        std::to_string(state.created),
        state.email,
        state.email_verified ? "true" : "false",
    };
    if (schema >= kSchemaWithEmailMails) {
        columns.emplace_back(std::to_string(state.email_mails));
        columns.emplace_back(std::to_string(state.email_mails_since));
    }
    if (schema >= kSchemaWithAuthenticators) {
        Result<std::vector<std::uint8_t>> tokens = seal_authenticators(state, user, key);
        if (!tokens) return tokens.error();
        columns.emplace_back(to_bytea(*tokens));
    }
    return columns;
}

class PgRecord final : public Record {
  public:
    PgRecord(Session session, int schema, std::string user, const SecretBytes& key)
        : session_(std::move(session)),
          schema_(schema),
          user_(std::move(user)),
          key_(key.clone()) {}

    const std::optional<UserState>& state() const override { return state_; }

    // Begins the transaction and takes the user's locks; then reads the row.
    Status lock() {
        static const std::string begin = begin_transaction();
        if (Status begun = session_.exec(begin.c_str(), "begin"); !begun) return begun;
        Result<QueryResult> locked =
            session_.run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {user_}, "lock");
        if (!locked) return locked.error();
        Result<QueryResult> row =
            session_.run(user_statements(schema_).select.c_str(), {user_}, "read");
        if (!row) return row.error();
        read_tokens_.reset();
        if (PQntuples(row->get()) == 0) {
            state_.reset();
        } else {
            Result<UserState> state = decode_row(row->get(), user_, key_, schema_);
            if (!state) return state.error();
            state_ = std::move(*state);
            if (schema_ >= kSchemaWithAuthenticators && !PQgetisnull(row->get(), 0, 13)) {
                read_tokens_ =
                    std::string(PQgetvalue(row->get(), 0, 13),
                                static_cast<std::size_t>(PQgetlength(row->get(), 0, 13)));
            }
        }
        in_transaction_ = true;
        return {};
    }

    Status save(const UserState& state) override {
        if (Status ready = relock_if_needed(); !ready) return ready;
        Result<std::vector<std::optional<std::string>>> args =
            encode_row(state, user_, key_, schema_);
        if (!args) return args.error();
        const std::optional<std::uint64_t> step = row_step(state);
        const std::optional<std::uint64_t> read_step =
            state_ ? row_step(*state_) : std::optional<std::uint64_t>{};
        const bool advancing = step && (!read_step || *step > *read_step);
        const UserStatements& statements = user_statements(schema_);
        const std::string* sql = &statements.insert;
        if (state_) {
            sql = advancing ? &statements.update_advancing : &statements.update_other;
            args->push_back(read_step ? std::optional(std::to_string(*read_step)) : std::nullopt);
            if (schema_ >= kSchemaWithAuthenticators) args->push_back(read_tokens_);
        }
        Result<QueryResult> written = session_.run(sql->c_str(), *args, "write", Effect::writes);
        if (!written) return abort(written.error());
        if (std::string_view(PQcmdTuples(written->get())) != "1") {
            return abort(make_error(Errc::busy, "database record of " + user_ +
                                                    ": time step already used (replay refused)"));
        }
        if (Status committed = session_.commit(); !committed) {
            return abort(committed.error());
        }
        in_transaction_ = false;
        state_ = state.clone();
        return {};
    }

    Status remove() override {
        if (Status ready = relock_if_needed(); !ready) return ready;
        if (!state_)
            return make_error(Errc::not_found, "database record of " + user_ + ": not enrolled");
        Result<QueryResult> deleted = session_.run("DELETE FROM pam_totp_users WHERE username = $1",
                                                   {user_}, "delete", Effect::writes);
        if (!deleted) return abort(deleted.error());
        if (Status committed = session_.commit(); !committed) {
            return abort(committed.error());
        }
        in_transaction_ = false;
        state_.reset();
        return {};
    }

  private:
    // After a commit the locks are gone: take them again, and refuse to write over a
    // record that someone else changed in between.
    Status relock_if_needed() {
        if (in_transaction_) return {};
        session_.restart();
        std::optional<UserState> ours = std::move(state_);
        if (Status locked = lock(); !locked) return locked;
        const bool same =
            ours.has_value() == state_.has_value() &&
            (!ours ||
             (same_replay_state(*ours, *state_) && ours->failures == state_->failures &&
              ours->locked_until == state_->locked_until && ours->created == state_->created &&
              ours->email_mails == state_->email_mails));
        if (!same) {
            return abort(make_error(Errc::busy, "database record of " + user_ +
                                                    ": changed by another process, try again"));
        }
        return {};
    }

    Error abort(Error error) {
        if (session_.usable()) {
            const Status rolled_back = session_.exec("ROLLBACK", "rollback");
            (void)rolled_back;  // the error being returned is the one to report
        }
        in_transaction_ = false;
        return error;
    }

    Session session_;
    int schema_;  // the database's schema version
    std::string user_;
    SecretBytes key_;
    std::optional<UserState> state_;
    std::optional<std::string> read_tokens_;  // the authenticators column as read (schema 3)
    bool in_transaction_ = false;
};

Result<ResetTokenEntry> decode_token(const PGresult* row) {
    ResetTokenEntry entry;
    entry.user = PQgetvalue(row, 0, 0);
    const auto hash = from_bytea(PQgetvalue(row, 0, 1));
    const auto expires = to_int<std::int64_t>(PQgetvalue(row, 0, 2));
    if (!hash || hash->size() != entry.verifier_hash.size() || !expires) {
        return make_error(Errc::corrupt, "database reset token: bad row");
    }
    std::copy(hash->begin(), hash->end(), entry.verifier_hash.begin());
    entry.expires = *expires;
    return entry;
}

class PgStore final : public DatabaseStore {
  public:
    explicit PgStore(const Options& options) {
        options_.dsn = options.dsn;
        options_.password = SecretString(options.password.view());
        options_.key = options.key.clone();
        options_.connect_timeout = options.connect_timeout;
    }

    Result<std::unique_ptr<Record>> open(std::string_view user) override {
        if (Status name = check_username(user); !name) return name.error();
        Result<CheckedConnection> conn = connection_for_record();
        if (!conn) return conn.error();
        auto record = std::make_unique<PgRecord>(std::move(conn->session), conn->schema,
                                                 std::string(user), options_.key);
        if (Status locked = record->lock(); !locked) return locked.error();
        return std::unique_ptr<Record>(std::move(record));
    }

    // A plain read on the kept connection, which the login's open() then takes over: one
    // connection per login, not two. A row that open() cannot use still fails it closed.
    Result<bool> enrolled(std::string_view user) override {
        if (Status name = check_username(user); !name) return name.error();
        Result<QueryResult> row =
            query("SELECT 1 FROM pam_totp_users WHERE username = $1", {std::string(user)}, "read");
        if (!row) return row.error();
        return PQntuples(row->get()) == 1;
    }

    Result<std::vector<std::string>> users() override {
        Result<QueryResult> rows =
            query("SELECT username FROM pam_totp_users ORDER BY username COLLATE \"C\"", {},
                  "listing users");
        if (!rows) return rows.error();
        std::vector<std::string> names;
        for (int i = 0; i < PQntuples(rows->get()); ++i)
            names.emplace_back(PQgetvalue(rows->get(), i, 0));
        return names;
    }

    Status put_reset_token(std::string_view selector, const ResetTokenEntry& entry) override {
        if (!is_reset_selector(selector)) return bad_selector();
        Result<QueryResult> put = query(
            "INSERT INTO pam_totp_reset_tokens (selector, username, verifier_hash, "
            "expires) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            {std::string(selector), entry.user, to_bytea(entry.verifier_hash),
             std::to_string(entry.expires)},
            "storing reset token");
        if (!put) return put.error();
        if (std::string_view(PQcmdTuples(put->get())) != "1") {
            return make_error(Errc::busy, "reset token: selector exists");
        }
        return {};
    }

    Result<ResetTokenEntry> find_reset_token(std::string_view selector) override {
        return token_query(selector,
                           "SELECT username, verifier_hash, expires FROM pam_totp_reset_tokens "
                           "WHERE selector = $1");
    }

    Result<ResetTokenEntry> take_reset_token(std::string_view selector) override {
        return token_query(selector,
                           "DELETE FROM pam_totp_reset_tokens WHERE selector = $1 "
                           "RETURNING username, verifier_hash, expires");
    }

    Status drop_reset_tokens(std::string_view user) override {
        return token_command("DELETE FROM pam_totp_reset_tokens WHERE username = $1",
                             std::string(user));
    }

    Status prune_reset_tokens(std::int64_t now) override {
        return token_command("DELETE FROM pam_totp_reset_tokens WHERE expires < $1",
                             std::to_string(now));
    }

  private:
    static Error bad_selector() {
        return make_error(Errc::invalid_argument, "not a reset token selector");
    }

    struct CheckedConnection {
        Session session;
        int schema = 0;
    };

    // A new connection to a database whose schema this build can use. The deadline of the
    // exchange on it starts now.
    Result<CheckedConnection> connect_checked() {
        Result<Connection> conn = connect(options_);
        if (!conn) return conn.error();
        Session session(std::move(*conn), kExchangeDeadline);
        Result<QueryResult> version = session.run("SELECT max(version) FROM pam_totp_schema", {},
                                                  "reading the schema version");
        const bool no_table = session.failed_sqlstate() == "42P01";
        if (!version && !no_table) return version.error();
        const std::optional<int> found = version && PQntuples(version->get()) == 1
                                             ? to_int<int>(PQgetvalue(version->get(), 0, 0))
                                             : std::nullopt;
        if (!found || *found < kOldestSchemaVersion) {
            return make_error(
                Errc::unsupported,
                "database schema " +
                    (found ? "version " + std::to_string(*found) : std::string("missing")) +
                    ", this build needs version " + std::to_string(kOldestSchemaVersion) + " to " +
                    std::to_string(kSchemaVersion) + ": run totp-enroll db-upgrade");
        }
        if (*found > kSchemaVersion) {
            return make_error(Errc::unsupported, "database schema version " +
                                                     std::to_string(*found) +
                                                     " is newer than this build knows (" +
                                                     std::to_string(kSchemaVersion) +
                                                     "): upgrade this server's pam_totp packages");
        }
        return CheckedConnection{std::move(session), *found};
    }

    // Runs one statement outside a Record on the connection kept for these calls. A
    // long-running process (totp-resetd) finds that connection closed by a database restart
    // only when a statement fails on it: then the statement runs once more on a new one.
    // A statement that ran out of the deadline closed the connection and is not run again;
    // the next call makes a new one.
    Result<QueryResult> query(const char* sql, const Args& args, const std::string& what) {
        const std::lock_guard<std::mutex> serialized(shared_lock_);
        if (shared_ && shared_->timed_out()) shared_.reset();
        if (shared_) {
            shared_->restart();
            Result<QueryResult> result = shared_->run(sql, args, what);
            shared_used_ = std::chrono::steady_clock::now();
            if (result || shared_->usable() || shared_->timed_out()) return result;
        }
        shared_.reset();
        Result<CheckedConnection> conn = connect_checked();
        if (!conn) return conn.error();
        shared_ = std::move(conn->session);
        shared_schema_ = conn->schema;
        Result<QueryResult> result = shared_->run(sql, args, what);
        shared_used_ = std::chrono::steady_clock::now();
        return result;
    }

    // The kept connection if a statement ran on it just now (a login's enrolled()), else a
    // new one. An older one may have been ended by idle_session_timeout unnoticed.
    Result<CheckedConnection> connection_for_record() {
        {
            const std::lock_guard<std::mutex> serialized(shared_lock_);
            const bool fresh = std::chrono::steady_clock::now() - shared_used_ < kReuseWindow;
            if (shared_ && shared_->usable() && fresh) {
                CheckedConnection taken{std::move(*shared_), shared_schema_};
                shared_.reset();
                taken.session.restart();
                return taken;
            }
        }
        return connect_checked();
    }

    Result<ResetTokenEntry> token_query(std::string_view selector, const char* sql) {
        if (!is_reset_selector(selector)) return bad_selector();
        Result<QueryResult> row = query(sql, {std::string(selector)}, "reading reset token");
        if (!row) return row.error();
        if (PQntuples(row->get()) == 0) return make_error(Errc::not_found, "no such reset token");
        return decode_token(row->get());
    }

    Status token_command(const char* sql, std::string arg) {
        Result<QueryResult> done = query(sql, {std::move(arg)}, "removing reset tokens");
        if (!done) return done.error();
        return {};
    }

    Options options_;
    // totp-resetd calls one store from two threads (requests, mail); a libpq connection
    // serves one at a time. Held for one statement (or reconnection), which its timeouts bound.
    std::mutex shared_lock_;
    std::optional<Session> shared_;
    int shared_schema_ = 0;
    std::chrono::steady_clock::time_point shared_used_;
};

}  // namespace

// Creates the schema or applies the migrations it lacks, in one transaction under an
// advisory lock so two admins running it at once cannot interleave.
Result<std::string> upgrade_schema(const Options& options) {
    Result<Connection> connected = connect(options);
    if (!connected) return connected.error();
    Session session(std::move(*connected), kUpgradeDeadline);
    // A migration may take longer than a login's statement timeout; an admin waits for it.
    if (Status begun = session.exec("BEGIN; SET LOCAL statement_timeout = 0; "
                                    "SELECT pg_advisory_xact_lock(7470317)",
                                    "begin");
        !begun) {
        return begun.error();
    }
    Result<QueryResult> exists = session.run("SELECT to_regclass('pam_totp_schema') IS NOT NULL",
                                             {}, "reading the schema version");
    if (!exists) return exists.error();
    int version = 0;
    if (std::string_view(PQgetvalue(exists->get(), 0, 0)) == "t") {
        Result<QueryResult> current =
            session.run("SELECT coalesce(max(version), 0) FROM pam_totp_schema", {},
                        "reading the schema version");
        if (!current) return current.error();
        version = to_int<int>(PQgetvalue(current->get(), 0, 0)).value_or(-1);
    }
    if (version < 0 || version > kSchemaVersion) {
        return make_error(Errc::unsupported, "database schema version " + std::to_string(version) +
                                                 " is newer than this build (" +
                                                 std::to_string(kSchemaVersion) + ")");
    }
    const int from = version;
    for (; version < kSchemaVersion; ++version) {
        if (Status applied = session.exec(kMigrations[version],
                                          "migration to version " + std::to_string(version + 1));
            !applied) {
            return applied.error();
        }
    }
    if (Status cleared =
            session.exec("DELETE FROM pam_totp_schema", "recording the schema version");
        !cleared) {
        return cleared.error();
    }
    Result<QueryResult> recorded =
        session.run("INSERT INTO pam_totp_schema (version) VALUES ($1)", {std::to_string(version)},
                    "recording the schema version");
    if (!recorded) return recorded.error();
    if (Status committed = session.commit(); !committed) return committed.error();
    if (from == version) return "database schema is at version " + std::to_string(version);
    if (from == 0) return "database schema created at version " + std::to_string(version);
    return "database schema upgraded from version " + std::to_string(from) + " to " +
           std::to_string(version);
}

std::unique_ptr<DatabaseStore> make_database_store(const Options& options) {
    return std::make_unique<PgStore>(options);
}

}  // namespace totp::pg
