#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL server for the fleet-store tests, run as the unprivileged
# `postgres` user on 127.0.0.1 only, with its data, socket and log in DIR.
#   pg_server.sh init DIR PASSWORD_FILE [CERT_DIR]
#                                         initdb (password auth over TCP) and pick a port;
#                                         with CERT_DIR (make_test_certs.sh), TCP only
#                                         over TLS with CERT_DIR's server certificate
#   pg_server.sh start DIR | stop DIR     start or stop it (bounded waits)
#   pg_server.sh crash DIR                immediate shutdown (as a power cut: no checkpoint)
#   pg_server.sh standby PRIMARY DIR      a streaming standby of PRIMARY's running server
#                                         (pg_basebackup -R) in DIR, started; prints its port
#   pg_server.sh detach DIR | attach DIR  stop or resume the standby's WAL receiver
#   pg_server.sh promote DIR              promote the standby (pg_ctl promote, waits)
#   pg_server.sh pooler SERVER DIR CERT_DIR USER PASSWORD_FILE POOL_SIZE
#                                         PgBouncer from docs/examples/pgbouncer.ini, its
#                                         socket in DIR, TLS (verify-full) to SERVER as USER
#   pg_server.sh unpool DIR               stop that PgBouncer
#   pg_server.sh dump DIR                 pg_dump of the test database to stdout
#   pg_server.sh sql DIR STATEMENT        runs one statement as the superuser; prints
#                                         the rows unaligned, without headers
# Runs every server program with a clean environment: none of the test's preloads.
set -eu
# Called from tests that preload pam_wrapper/nss_wrapper and a fake clock: leave them all.
if [ -n "${LD_PRELOAD:-}" ]; then
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$0" "$@"
fi
command=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() {
    env -i PATH=/usr/bin:/bin LANG=C setpriv --reuid=postgres --regid=postgres --init-groups \
        --inh-caps=-all "$@"
}
case $command in
    init)
        install -d -o postgres -g postgres -m 0700 "$dir"
        install -o postgres -g postgres -m 0600 "$3" "$dir/pwfile"
        as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions \
            >"$dir/initdb.log" 2>&1
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
max_connections = 100
CONF
        if [ $# -ge 4 ]; then
            install -o postgres -g postgres -m 0644 "$4/server.crt" "$dir/data/server.crt"
            install -o postgres -g postgres -m 0600 "$4/server.key" "$dir/data/server.key"
            echo "ssl = on" >>"$dir/data/postgresql.conf"
            # hostssl only: a connection without TLS matches no line and is refused.
            cat >"$dir/data/pg_hba.conf" <<HBA
local   all all               trust
hostssl all all 127.0.0.1/32  scram-sha-256
HBA
        fi
        echo "$port" >"$dir/port"
        echo "$port"
        ;;
    start)
        as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
        ;;
    stop)
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
        ;;
    crash)
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
        ;;
    standby)
        primary=$2
        dir=$3
        install -d -o postgres -g postgres -m 0700 "$dir"
        as_postgres "$bin/pg_basebackup" -D "$dir/data" -h "$primary" -p "$(cat "$primary/port")" \
            -U postgres -R -X stream -c fast >"$dir/basebackup.log" 2>&1
        # The upstream connection in a file of its own, so that detach/attach can take it away
        # and give it back (a standby without primary_conninfo stops receiving WAL).
        grep '^primary_conninfo' "$dir/data/postgresql.auto.conf" >"$dir/data/upstream.conf"
        sed -i '/^primary_conninfo/d' "$dir/data/postgresql.auto.conf"
        chown postgres:postgres "$dir/data/upstream.conf"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
wal_retrieve_retry_interval = 200ms
include_if_exists = 'upstream.conf'
CONF
        echo "$port" >"$dir/port"
        as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
        echo "$port"
        ;;
    detach)
        mv "$dir/data/upstream.conf" "$dir/data/upstream.off"
        as_postgres "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
        ;;
    attach)
        mv "$dir/data/upstream.off" "$dir/data/upstream.conf"
        as_postgres "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
        ;;
    pooler)
        server=$2
        dir=$3
        install -d -o postgres -g postgres -m 0700 "$dir"
        printf '"%s" "%s"\n' "$5" "$(head -n 1 "$6")" >"$dir/userlist.txt"
        chown postgres:postgres "$dir/userlist.txt"
        chmod 0600 "$dir/userlist.txt"
        sed -e "s|^pam_totp = .*|postgres = host=localhost port=$(cat "$server/port") dbname=postgres|" \
            -e "s|^unix_socket_dir = .*|unix_socket_dir = $dir|" \
            -e "s|^auth_file = .*|auth_file = $dir/userlist.txt|" \
            -e "s|^server_tls_ca_file = .*|server_tls_ca_file = $4/ca.crt|" \
            -e "s|^default_pool_size = .*|default_pool_size = $7|" \
            -e "s|^logfile = .*|logfile = $dir/pgbouncer.log|" \
            -e "s|^pidfile = .*|pidfile = $dir/pgbouncer.pid|" \
            "$(dirname "$0")/../../docs/examples/pgbouncer.ini" >"$dir/pgbouncer.ini"
        as_postgres /usr/sbin/pgbouncer -q -d "$dir/pgbouncer.ini"
        for _ in $(seq 100); do
            [ -S "$dir/.s.PGSQL.6432" ] && exit 0
            sleep 0.1
        done
        echo "pgbouncer did not start" >&2
        exit 1
        ;;
    unpool)
        [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")"
        ;;
    promote)
        as_postgres "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
        ;;
    dump)
        as_postgres "$bin/pg_dump" -h "$dir" -p "$(cat "$dir/port")" -U postgres postgres
        ;;
    sql)
        as_postgres "$bin/psql" -q -X -t -A -h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres -c "$3"
        ;;
    *)
        echo "usage: pg_server.sh init|start|stop|crash|standby|detach|attach|promote|dump|sql DIR ..." >&2
        exit 2
        ;;
esac
