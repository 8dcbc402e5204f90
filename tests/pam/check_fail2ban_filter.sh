#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The shipped fail2ban filter (packaging/fail2ban/filter.d/pam_totp.conf), run by
# fail2ban-regex over log lines the real module wrote (fail2ban_log_lines: wrong codes, a
# lockout, a bad recovery code, a replayed code, successes, no rhost, a forged rhost in a
# typed name), counts each refused attempt once for the host that made it, and nothing else.
#   check_fail2ban_filter.sh LOG_LINES_PROGRAM FILTER_DIR WORK_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
producer=$1 filter_dir=$2 work=$3

# scripts/install-deps.sh unpacks the package there (installing it would start the daemon).
unpacked=/var/cache/pam_totp-tests/fail2ban
if [ -x "$unpacked/usr/bin/fail2ban-regex" ]; then
    fail2ban() { PYTHONPATH="$unpacked/usr/lib/python3/dist-packages" /usr/bin/python3 \
        "$unpacked/usr/bin/fail2ban-$1" "${@:2}"; }
    config=$unpacked/etc/fail2ban
elif command -v fail2ban-regex >/dev/null; then
    fail2ban() { "fail2ban-$1" "${@:2}"; }
    config=/etc/fail2ban
else
    echo "FAIL: fail2ban-regex is missing (scripts/install-deps.sh)"
    exit 1
fi

rm -rf "$work" && mkdir -p "$work/filter.d"
# The filter's [INCLUDES] are read from the directory it is in, as in /etc/fail2ban.
cp "$config/filter.d/common.conf" "$filter_dir/filter.d/pam_totp.conf" "$work/filter.d/"
"$here/../support/with_private_tmp.sh" "$producer" "$work/captured"
case $? in
0) ;;
77) exit 77 ;; # no private mount namespace: with_private_tmp.sh said why
*)
    echo "FAIL: the logins that write the lines did not go as planned"
    exit 1
    ;;
esac
# What syslogd makes of the module's lines (the test preload captured "<PRI> message").
stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
sed -E "s/^<[0-9]+> /$stamp host sshd[4242]: /" "$work/captured" >"$work/auth.log"
log=$(cat "$work/auth.log")

check_output "the log holds a wrong code without rhost" "rhost=-)" "$log"
check_output "the log holds successes" "accepted recovery code" "$log"
check_output "the log holds a typed name with a forged rhost" "rhost=192.0.2.66)" "$log"

hosts=$(fail2ban regex -o ip "$work/auth.log" "$work/filter.d/pam_totp.conf" | sort | uniq -c |
    awk '{ print $2 "=" $1 }' | sort | tr '\n' ' ')
expected="2001:db8::30=1 203.0.113.10=1 203.0.113.20=4 203.0.113.40=1 "
check "each refused attempt counts once for its host, nothing else matches (got: $hosts)" \
    test "$hosts" = "$expected"

# The jail example, in a copy of fail2ban's configuration whose only jail it is, with the
# log above as the auth log.
cp -r "$config" "$work/config"
rm -f "$work/config/jail.d/"*
cp "$filter_dir/filter.d/pam_totp.conf" "$work/config/filter.d/"
cp "$filter_dir/jail.d/pam_totp.conf.example" "$work/config/jail.d/pam_totp.conf"
printf '[DEFAULT]\nsyslog_authpriv = %s\n' "$work/auth.log" >"$work/config/paths-overrides.local"
check "the jail example passes fail2ban-client's configuration test" \
    fail2ban client -c "$work/config" --test
check_output "  and enables the jail with the filter" "['add', 'pam_totp'," \
    "$(fail2ban client -c "$work/config" --dump 2>/dev/null)"
finish
