// SPDX-License-Identifier: Apache-2.0
// One connection to the database and the client-side deadline of the exchange on it. The
// server's own timeouts cannot end every wait: a COMMIT waiting for a synchronous standby
// that is gone ignores statement_timeout, and a host that vanished answers nothing. So each
// statement is sent and awaited without blocking (poll on libpq's socket); past the deadline
// it is cancelled (PQcancel) and the connection closed, and every later call on the session
// fails. A write whose commit was not confirmed is thereby reported as failed, never as done.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "totp/result.hpp"

namespace totp::pg {

struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnDeleter>;

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using QueryResult = std::unique_ptr<PGresult, ResultDeleter>;

using Args = std::vector<std::optional<std::string>>;

// What the server or libpq says about a failed statement, fit for one log line: the
// server's primary message and SQLSTATE only (its DETAIL can quote a whole row), or libpq's
// own text when no answer came. Errc::io, as is every failure once connected: the login
// fails closed, so that whoever can make queries fail cannot send a break-glass user to the
// local file.
Error query_failed(const QueryResult& result, PGconn* conn, const std::string& what);

// libpq's multi-line messages (one line per host and address tried) as one printable log
// line.
std::string one_line(const char* text);

// Whether a statement writes what the caller relies on (a record, its removal, the commit):
// a WARNING or the deadline then means the database did not confirm the write.
enum class Effect { reads, writes };

class Session {
  public:
    // Takes a connection made with PQconnectdbParams; `budget` is how long every exchange on
    // it may take from now (and from each restart()).
    Session(Connection conn, std::chrono::milliseconds budget);

    // A new exchange: the deadline is `budget` from now.
    void restart();

    // Runs one statement with parameters ($1, ...) and returns its result, or the error:
    // the server's, that the deadline passed (then the session is closed), or that the
    // server answered with a WARNING (see commit()).
    Result<QueryResult> run(const char* sql, const Args& args, const std::string& what,
                            Effect effect = Effect::reads);
    // Runs one or more statements without parameters.
    Status exec(const char* sql, const std::string& what);
    // Commits the transaction. Only the answer COMMIT without a WARNING confirms it: a wait
    // for a synchronous standby that someone cancels (pg_cancel_backend) is answered COMMIT
    // with a WARNING, the transaction being on the primary only, and the COMMIT of a failed
    // transaction is answered ROLLBACK. (A statement outside a transaction commits the same
    // way, hence run()'s rule.)
    Status commit();
    // The SQLSTATE of the last statement that failed on the server, or empty.
    const std::string& failed_sqlstate() const { return sqlstate_; }
    // Whether statements can still be sent (connected, not closed at a deadline).
    bool usable() const;
    // Whether a statement ran out of the deadline (and the session was closed).
    bool timed_out() const { return timed_out_; }

    // The last WARNING the server sent with the statement in progress.
    struct Warning {
        bool seen = false;
        std::string text;
    };

  private:
    Result<QueryResult> send(const char* sql, const std::string& what, Effect effect);
    Result<QueryResult> await(const std::string& what, Effect effect);
    Error expired(const std::string& what, Effect effect);
    Error unconfirmed(const std::string& what, const std::string& why, Effect effect) const;

    Connection conn_;
    // libpq's notice receiver writes here: on the heap, so that moving the Session keeps it.
    std::unique_ptr<Warning> warning_ = std::make_unique<Warning>();
    std::chrono::milliseconds budget_;
    std::chrono::steady_clock::time_point deadline_;
    std::string sqlstate_;
    bool timed_out_ = false;
};

}  // namespace totp::pg
