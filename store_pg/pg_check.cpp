// SPDX-License-Identifier: Apache-2.0
// totp-check --store: what an operator needs to know about a server's database connection,
// read with the server's own settings. Reads only.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "pg_migrations.hpp"
#include "pg_session.hpp"
#include "pg_store.hpp"

namespace totp::pg {
namespace {

constexpr std::chrono::milliseconds kCheckDeadline{10000};
constexpr int kRoundTrips = 5;

std::string ok(const std::string& text) {
    return "ok: " + text + "\n";
}

std::string finding(const std::string& text) {
    return "finding: " + text + "\n";
}

std::string schema_line(Session& session) {
    Result<QueryResult> version =
        session.run("SELECT max(version) FROM pam_totp_schema", {}, "reading the schema version");
    if (!version) return finding("schema: " + version.error().message);
    const std::string found = PQgetvalue(version->get(), 0, 0);
    const std::string text = "schema version " + (found.empty() ? "none" : found) +
                             " (this build uses 1 to " + std::to_string(kSchemaVersion) + ")";
    return found == std::to_string(kSchemaVersion) ? ok(text) : finding(text);
}

// The documented set (pam_totp.conf(5)): SELECT, INSERT, UPDATE, DELETE on the users and
// reset-token tables, SELECT on the schema table, and nothing else that the role could use
// to change the schema, other roles or the data past the store's own statements.
constexpr const char* kPrivilegeQuery =
    "WITH wanted AS (SELECT t, p, (t <> 'pam_totp_schema' AND p IN ('SELECT', 'INSERT', "
    "'UPDATE', 'DELETE')) OR (t = 'pam_totp_schema' AND p = 'SELECT') AS needed "
    "FROM unnest(ARRAY['pam_totp_users', 'pam_totp_reset_tokens', 'pam_totp_schema']) t, "
    "unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', "
    "'TRIGGER']) p) "
    "SELECT coalesce(string_agg(p || ' on ' || t, ', ') FILTER (WHERE needed AND NOT "
    "has_table_privilege(t, p)), ''), "
    "concat_ws(', ', string_agg(p || ' on ' || t, ', ') FILTER (WHERE NOT needed AND "
    "has_table_privilege(t, p)), "
    "(SELECT string_agg(a, ', ') FROM pg_roles r, LATERAL (VALUES (r.rolsuper, 'superuser'), "
    "(r.rolcreaterole, 'CREATEROLE'), (r.rolcreatedb, 'CREATEDB'), (r.rolreplication, "
    "'REPLICATION'), (r.rolbypassrls, 'BYPASSRLS')) v(held, a) WHERE r.rolname = current_user "
    "AND held), "
    "CASE WHEN has_schema_privilege(current_schema(), 'CREATE') THEN 'CREATE on schema ' || "
    "current_schema() END) "
    "FROM wanted";

std::string privileges_line(Session& session) {
    Result<QueryResult> rows = session.run(kPrivilegeQuery, {}, "reading the role's privileges");
    if (!rows) return finding("privileges: " + rows.error().message);
    const std::string missing = PQgetvalue(rows->get(), 0, 0);
    const std::string extra = PQgetvalue(rows->get(), 0, 1);
    if (missing.empty() && extra.empty())
        return ok("privileges: the role has the documented minimal set");
    std::string text = "privileges: the role";
    if (!missing.empty()) text += " lacks " + missing;
    if (!missing.empty() && !extra.empty()) text += ";";
    if (!extra.empty()) text += " has more than the documented set: " + extra;
    return finding(text);
}

std::string connection_line(PGconn* conn) {
    const std::string_view host = PQhost(conn) != nullptr ? PQhost(conn) : "";
    if (host.starts_with("/")) {
        return ok("connection: unix socket " + std::string(host) +
                  " (a local pooler: its server_tls_sslmode protects the hop to the database)");
    }
    std::string sslmode;
    PQconninfoOption* used = PQconninfo(conn);
    for (PQconninfoOption* option = used; option && option->keyword; ++option) {
        if (std::string_view(option->keyword) == "sslmode" && option->val) sslmode = option->val;
    }
    PQconninfoFree(used);
    const std::string where = "connection to " + std::string(host) + ": ";
    if (PQsslInUse(conn) == 0) return finding(where + "no TLS");
    const char* protocol = PQsslAttribute(conn, "protocol");
    const std::string tls = std::string(protocol ? protocol : "TLS") + ", sslmode=" + sslmode;
    if (sslmode != "verify-full")
        return finding(where + tls + " (the server's certificate is not checked against the host)");
    return ok(where + tls);
}

std::string round_trip_line(Session& session) {
    std::vector<double> times;
    for (int i = 0; i < kRoundTrips; ++i) {
        const auto start = std::chrono::steady_clock::now();
        Result<QueryResult> pong = session.run("SELECT 1", {}, "round trip");
        if (!pong) return finding("round trip: " + pong.error().message);
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    std::sort(times.begin(), times.end());
    char text[64];
    std::snprintf(text, sizeof text, "round trip %.2f ms (median of %d)", times[times.size() / 2],
                  kRoundTrips);
    return ok(text);
}

}  // namespace

Result<std::string> check_store(const Options& options) {
    Result<Connection> conn = connect(options);
    if (!conn) return conn.error();
    const std::string connection = connection_line(conn->get());
    Session session(std::move(*conn), kCheckDeadline);
    return schema_line(session) + privileges_line(session) + connection + round_trip_line(session);
}

}  // namespace totp::pg
