#!/bin/sh
# Runs one PAM-level test binary in a private mount namespace with its own /tmp.
# pam_wrapper keeps its per-process copy of libpam and the service files in /tmp/pam.X
# (one character of choice), so test processes running side by side would otherwise
# collide there. The preload list is applied only to the test binary itself.
set -eu
if [ "${TOTP_IN_PRIVATE_TMP:-}" != 1 ]; then
    TOTP_IN_PRIVATE_TMP=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
mount -t tmpfs -o mode=1777 pam-test-tmp /tmp
exec env LD_PRELOAD="$TOTP_TEST_PRELOAD" "$@"
