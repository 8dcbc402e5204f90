// SPDX-License-Identifier: Apache-2.0
#include "pg_session.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <future>
#include <memory>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "totp/text.hpp"

namespace totp::pg {
namespace {

using Clock = std::chrono::steady_clock;

// Server-controlled text goes to syslog or a terminal through totp::printable, cut here.
constexpr std::size_t kMaxLoggedLine = 300;

bool succeeded(const QueryResult& result) {
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// Waits until the socket is ready for `events` or the deadline passes (false). A poll error
// other than EINTR counts as ready: libpq's next call on the socket reports it.
bool wait_for(PGconn* conn, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd socket{PQsocket(conn), events, 0};
        const int ready = poll(&socket, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        if (ready != 0 && !(ready < 0 && errno == EINTR)) return true;
    }
}

// Pushes out what libpq has queued (non-blocking mode); false if the deadline passed first.
bool flush(PGconn* conn, Clock::time_point deadline) {
    for (;;) {
        const int pending = PQflush(conn);
        if (pending <= 0) return true;  // sent, or failed: PQgetResult reports that
        if (!wait_for(conn, POLLIN | POLLOUT, deadline)) return false;
        if (PQconsumeInput(conn) == 0) return true;
    }
}

// How long a login waits, past its deadline, for its cancel to be delivered.
constexpr std::chrono::milliseconds kCancelGrace{1000};

// Asks the server to stop the statement in progress (a separate connection to it), so that
// its backend releases the row lock it holds rather than waiting on for a session we close.
// PQcancel (libpq before 17 has no other) then waits without a timeout for the server or
// pooler to close that connection, and a hung one never does: so it runs on a thread of its
// own, waited for kCancelGrace at most and then left to finish alone. The thread owns all it
// uses, and the backend stays loaded for the life of the process (RTLD_NODELETE).
void cancel_statement(PGconn* conn) {
    std::shared_ptr<PGcancel> cancel(PQgetCancel(conn), PQfreeCancel);
    if (!cancel) return;
    auto sent = std::make_shared<std::promise<void>>();
    std::future<void> done = sent->get_future();
    try {
        std::thread([cancel, sent] {
            char ignored[256];
            PQcancel(cancel.get(), ignored, sizeof ignored);
            sent->set_value();
        }).detach();
    } catch (const std::system_error&) {
        return;  // no thread to be had: the connection is closed without the cancel
    }
    done.wait_for(kCancelGrace);
}

// Of a statement's results, the first failure, or else the last.
void keep(QueryResult& kept, QueryResult next) {
    if (!kept || succeeded(kept)) kept = std::move(next);
}

// libpq's default prints the server's notices on stderr (a user's terminal under su); here
// a WARNING is kept for the statement's caller instead, and the rest dropped.
void keep_warning(void* kept, const PGresult* notice) noexcept {
    const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity == nullptr || std::string_view(severity) != "WARNING") return;
    auto* warning = static_cast<Session::Warning*>(kept);
    warning->seen = true;
    const char* primary = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
    try {
        warning->text = totp::printable(primary != nullptr ? primary : "", kMaxLoggedLine);
    } catch (...) {
        warning->text.clear();  // seen is what counts
    }
}

}  // namespace

std::string one_line(const char* text) {
    std::string_view rest = text != nullptr ? text : "";
    std::string line;
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        if (end != 0) {
            line +=
                (line.empty() ? "" : "; ") + totp::printable(rest.substr(0, end), kMaxLoggedLine);
        }
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return line.empty() ? "unknown error" : line;
}

Error query_failed(const QueryResult& result, PGconn* conn, const std::string& what) {
    const char* primary =
        result ? PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string why =
        primary != nullptr
            ? totp::printable(primary, kMaxLoggedLine) +
                  (sqlstate ? " (SQLSTATE " + totp::printable(sqlstate) + ")" : "")
            : one_line(PQerrorMessage(conn));  // no answer from the server: libpq's own text
    return make_error(Errc::io, "database " + what + " failed: " + why);
}

Session::Session(Connection conn, std::chrono::milliseconds budget)
    : conn_(std::move(conn)), budget_(budget) {
    // Sends must not block either: a server that stops reading would hold a login otherwise.
    if (conn_ && PQsetnonblocking(conn_.get(), 1) != 0) conn_.reset();
    if (conn_) PQsetNoticeReceiver(conn_.get(), keep_warning, warning_.get());
    restart();
}

void Session::restart() {
    deadline_ = Clock::now() + budget_;
}

bool Session::usable() const {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

Result<QueryResult> Session::run(const char* sql, const Args& args, const std::string& what,
                                 Effect effect) {
    if (!conn_) return make_error(Errc::io, "database " + what + " failed: connection closed");
    std::vector<const char*> values;
    for (const auto& arg : args) values.push_back(arg ? arg->c_str() : nullptr);
    *warning_ = {};
    if (PQsendQueryParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) == 0) {
        return query_failed(nullptr, conn_.get(), what);
    }
    Result<QueryResult> done = await(what, effect);
    if (done && warning_->seen) return unconfirmed(what, warning_->text, effect);
    return done;
}

Status Session::exec(const char* sql, const std::string& what) {
    Result<QueryResult> done = send(sql, what, Effect::reads);
    if (!done) return done.error();
    return {};
}

Status Session::commit() {
    Result<QueryResult> done = send("COMMIT", "commit", Effect::writes);
    if (!done) return done.error();
    if (warning_->seen) return unconfirmed("commit", warning_->text, Effect::writes);
    const std::string_view tag = PQcmdStatus(done->get());
    if (tag != "COMMIT") {
        return unconfirmed("commit", "answered " + totp::printable(tag), Effect::writes);
    }
    return {};
}

Result<QueryResult> Session::send(const char* sql, const std::string& what, Effect effect) {
    if (!conn_) return make_error(Errc::io, "database " + what + " failed: connection closed");
    *warning_ = {};
    if (PQsendQuery(conn_.get(), sql) == 0) return query_failed(nullptr, conn_.get(), what);
    return await(what, effect);
}

Result<QueryResult> Session::await(const std::string& what, Effect effect) {
    PGconn* conn = conn_.get();
    if (!flush(conn, deadline_)) return expired(what, effect);
    QueryResult kept;
    for (;;) {
        while (PQisBusy(conn) != 0) {
            if (!wait_for(conn, POLLIN, deadline_)) return expired(what, effect);
            if (PQconsumeInput(conn) == 0) break;  // connection lost: PQgetResult says so
        }
        QueryResult next(PQgetResult(conn));
        if (!next) break;
        keep(kept, std::move(next));
    }
    sqlstate_.clear();
    if (succeeded(kept)) return kept;
    const char* sqlstate = kept ? PQresultErrorField(kept.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (sqlstate != nullptr) sqlstate_ = sqlstate;
    return query_failed(kept, conn, what);
}

Error Session::unconfirmed(const std::string& what, const std::string& why, Effect effect) const {
    if (effect == Effect::writes)
        return make_error(Errc::io,
                          "database did not confirm the write (" + what + ": " + why + ")");
    return make_error(Errc::io, "database " + what + " failed: the server warned: " + why);
}

Error Session::expired(const std::string& what, Effect effect) {
    cancel_statement(conn_.get());
    conn_.reset();
    timed_out_ = true;
    const std::string seconds = std::to_string(budget_.count() / 1000);
    if (effect == Effect::writes) {
        return make_error(Errc::io, "database did not confirm the write within " + seconds +
                                        " s (" + what + " cancelled, connection closed)");
    }
    return make_error(Errc::io, "database did not answer the " + what + " within " + seconds +
                                    " s (cancelled, connection closed)");
}

}  // namespace totp::pg
