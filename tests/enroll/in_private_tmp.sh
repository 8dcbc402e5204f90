#!/bin/sh
# Runs a command in a private mount namespace with its own empty /tmp. pam_wrapper keeps
# its per-process copy of libpam in /tmp/pam.X (one character of choice), so PAM test
# processes running side by side under ctest -j would otherwise collide there.
set -eu
if [ "${TOTP_IN_PRIVATE_TMP:-}" != 1 ]; then
    TOTP_IN_PRIVATE_TMP=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
mount -t tmpfs -o mode=1777 enroll-test-tmp /tmp
exec "$@"
