// SPDX-License-Identifier: Apache-2.0
/* Preloaded into a totp-enroll that a test starts: the process stops itself (SIGSTOP) at one
 * point of its work with the database, where a user's `kill -STOP` on the setuid tool could
 * catch it, so that the test knows what the stopped process holds:
 *   TOTP_TEST_STOP_AT=connected  a connection, idle (just made)
 *   TOTP_TEST_STOP_AT=locked     a transaction holding the user's row lock (just after the
 *                                SELECT ... FOR UPDATE)
 * libpq is loaded by the store backend with RTLD_LOCAL, out of this object's reach: these
 * definitions come first in the backend's lookup, and every libpq function is called through
 * a handle to the library already loaded. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int stops_at(const char* point) {
    const char* at = getenv("TOTP_TEST_STOP_AT");
    return at != NULL && strcmp(at, point) == 0;
}

static void* libpq_symbol(const char* name) {
    void* libpq = dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD);
    if (libpq == NULL) abort();
    void* symbol = dlsym(libpq, name);
    /* RTLD_NOLOAD only took another reference to the library the backend keeps loaded. */
    dlclose(libpq);
    if (symbol == NULL) abort();
    return symbol;
}

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values,
                          int expand_dbname) {
    typedef PGconn* Connect(const char* const*, const char* const*, int);
    PGconn* conn = ((Connect*)libpq_symbol("PQconnectdbParams"))(keywords, values, expand_dbname);
    typedef ConnStatusType Status(const PGconn*);
    if (stops_at("connected") && ((Status*)libpq_symbol("PQstatus"))(conn) == CONNECTION_OK)
        raise(SIGSTOP);
    return conn;
}

/* The store sends statements without blocking (PQsendQueryParams) and collects their results
 * with PQgetResult: the row lock is held once the result of the SELECT ... FOR UPDATE is in. */
static int g_sent_for_update;

int PQsendQueryParams(PGconn* conn, const char* command, int count, const Oid* types,
                      const char* const* values, const int* lengths, const int* formats,
                      int result_format) {
    typedef int Send(PGconn*, const char*, int, const Oid*, const char* const*, const int*,
                     const int*, int);
    g_sent_for_update = strstr(command, "FOR UPDATE") != NULL;
    return ((Send*)libpq_symbol("PQsendQueryParams"))(conn, command, count, types, values, lengths,
                                                      formats, result_format);
}

PGresult* PQgetResult(PGconn* conn) {
    typedef PGresult* Get(PGconn*);
    PGresult* result = ((Get*)libpq_symbol("PQgetResult"))(conn);
    typedef ExecStatusType Status(const PGresult*);
    if (stops_at("locked") && g_sent_for_update && result != NULL &&
        ((Status*)libpq_symbol("PQresultStatus"))(result) == PGRES_TUPLES_OK) {
        g_sent_for_update = 0;
        raise(SIGSTOP);
    }
    return result;
}
