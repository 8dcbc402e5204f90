#!/bin/bash
# Runs the demo login from a build directory: a private sandbox (pam_wrapper service
# file, nss_wrapper user "demo", pam_matrix password, state dir) so the host's PAM
# configuration, users and passwords are never touched.
#   demo/run-demo.sh BUILD_DIR [--auto [--wrong-code]]
set -euo pipefail
build=$(cd "$1" && pwd)
shift
module="$build/pam_module/pam_totp.so"
[ -f "$module" ] || { echo "run-demo: $module not built" >&2; exit 2; }
multiarch=$(gcc -print-multiarch)
wrapper_modules="/usr/lib/$multiarch/pam_wrapper"

sandbox=$(mktemp -d /tmp/pam_totp_demo.XXXXXX)
trap 'rm -rf "$sandbox"' EXIT
chmod 0700 "$sandbox"
mkdir -m 0700 "$sandbox/state"
mkdir "$sandbox/services"
printf 'root:x:0:0:root:/root:/bin/sh\ndemo:x:4242:4242:Demo user:/tmp:/bin/sh\n' > "$sandbox/passwd"
printf 'root:x:0:\ndemo:x:4242:\n' > "$sandbox/group"
printf 'demo:demo-password:demo-login\n' > "$sandbox/passdb"
printf '[global]\n' > "$sandbox/pam_totp.conf"
cat > "$sandbox/services/demo-login" <<SERVICE
auth required $wrapper_modules/pam_matrix.so passdb=$sandbox/passdb
auth required $module config=$sandbox/pam_totp.conf state_dir=$sandbox/state
SERVICE

printf 'auth required %s/pam_deny.so\n' "/lib/$multiarch/security" > "$sandbox/services/other"

preload="/usr/lib/$multiarch/libpam_wrapper.so:/usr/lib/$multiarch/libnss_wrapper.so"
# A sanitizer build needs its runtime first in the library list.
asan=$(ldd "$build/demo/demo_login" | awk '/libasan/ {print $3}')
[ -z "$asan" ] || preload="$asan:$preload"
export LD_PRELOAD="$preload"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$sandbox/services"
export NSS_WRAPPER_PASSWD="$sandbox/passwd" NSS_WRAPPER_GROUP="$sandbox/group"
exec "$build/demo/demo_login" "$sandbox/state" demo-login "$@"
