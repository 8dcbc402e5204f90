#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The shipped totp-resetd.service is one systemd accepts, and it restarts a service that
# hangs: Type=notify (readiness from the monitor), a watchdog longer than the monitor's
# answer deadline (35 s, totp-resetd(8)), and a restart after a failure or a watchdog
# timeout. The protocol itself is tested by reset.e2e_processes; systemd is not needed.
#   check_unit.sh SOURCE_DIR TOTP_RESETD
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
root=$1 resetd=$2
unit=$root/config/systemd/totp-resetd.service
answer_deadline=35

value() { sed -n "s/^$1=//p" "$unit"; }
seconds() { # systemd time spans this check understands: N, Ns, Nmin
    case $1 in
    *min) echo $((${1%min} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
    esac
}

check "Type=notify: the monitor says when both processes serve" test "$(value Type)" = notify
check "only the main process (the monitor) may notify" \
    test "$(value NotifyAccess)" = main -o -z "$(value NotifyAccess)"
watchdog=$(value WatchdogSec)
check "WatchdogSec= is set" test -n "$watchdog"
check "and longer than the answer deadline ($watchdog > $answer_deadline s)" \
    test "$(seconds "${watchdog:-0}")" -gt "$answer_deadline"
case $(value Restart) in
on-failure | on-abnormal | on-watchdog | always) restarts=yes ;;
*) restarts=no ;;
esac
check "Restart= covers a watchdog timeout and a failure exit ($(value Restart))" \
    test "$restarts" = yes -a "$(value Restart)" != on-watchdog -a "$(value Restart)" != on-abnormal

if command -v systemd-analyze >/dev/null; then
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT
    sed "s#^ExecStart=/usr/sbin/totp-resetd #ExecStart=$resetd #" "$unit" >"$copy/totp-resetd.service"
    out=$(systemd-analyze verify --man=no "$copy/totp-resetd.service" 2>&1)
    status=$?
    check "systemd-analyze verify accepts the unit without a warning" \
        test "$status" -eq 0 -a -z "$out"
    [ -z "$out" ] || sed 's/^/    | /' <<<"$out"
else
    echo "# systemd-analyze is not installed: the unit's syntax was not verified"
fi
finish
