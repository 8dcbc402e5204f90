#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a command in a private mount namespace with its own empty /tmp.
#
# pam_wrapper keeps its per-process copy of libpam and the service files in /tmp/pam.X
# (one character of choice), so PAM test processes running side by side would otherwise
# collide there. Whatever the command needs from the host's /tmp (a checkout or build
# tree may live there) is bound back into the new /tmp. With TOTP_TEST_PRELOAD set, the
# preload list is applied to the command only, not to the tools that set this up.
#
# Where no mount namespace can be made, exits 77 (ctest's SKIP_RETURN_CODE) with the
# reason, or 1 when SANDBOX_REQUIRED is set (scripts/test.sh), where a skip is a failure.
set -eu
if [ "${TOTP_IN_PRIVATE_TMP:-}" != 1 ]; then
    if ! why=$(unshare --mount --propagation private true 2>&1); then
        if [ -n "${SANDBOX_REQUIRED:-}" ]; then
            echo "FAIL: no private mount namespace: $why (SANDBOX_REQUIRED is set)"
            exit 1
        fi
        echo "SKIP: no private mount namespace: $why"
        exit 77
    fi
    TOTP_IN_PRIVATE_TMP=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
exec 3</tmp  # the host's /tmp, reachable as /proc/self/fd/3 once it is covered
mount -t tmpfs -o mode=1777 private-test-tmp /tmp
for path in "$0" "$PWD" "$@"; do
    case "$path" in
        /tmp/?*)
            top=${path#/tmp/}
            top=${top%%/*}
            if [ ! -e "/tmp/$top" ] && [ -d "/proc/self/fd/3/$top" ]; then
                mkdir "/tmp/$top"
                # Not canonicalized: the fd names the covered /tmp, its path the new one.
                mount --no-canonicalize --bind "/proc/self/fd/3/$top" "/tmp/$top"
            fi
            ;;
    esac
done
exec 3<&-
if [ -n "${TOTP_TEST_PRELOAD:-}" ]; then
    exec env LD_PRELOAD="$TOTP_TEST_PRELOAD" "$@"
fi
exec "$@"
