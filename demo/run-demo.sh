#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the demo from a build directory: enrolls the user "demo" with the built
# totp-enroll (as root: --user demo --no-confirm, which prints the QR code to scan), then
# logs in through the built pam_totp.so. Everything happens in a private sandbox
# (pam_wrapper service file, nss_wrapper user "demo", pam_matrix password, config and
# state dir), so the host's PAM configuration, users and passwords are never touched.
#   demo/run-demo.sh BUILD_DIR [--auto [--wrong-code]]
set -euo pipefail
build=$(cd "$1" && pwd)
shift
module="$build/pam_module/pam_totp.so"
enroll="$build/enroll_tool/totp-enroll"
for built in "$module" "$enroll"; do
    [ -f "$built" ] || { echo "run-demo: $built not built" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "run-demo: run as root (the demo store is root-owned)" >&2; exit 2; }
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
printf '[global]\nstate_dir = %s\nissuer = pam_totp demo\n' "$sandbox/state" > "$sandbox/pam_totp.conf"
cat > "$sandbox/services/demo-login" <<SERVICE
auth required $wrapper_modules/pam_matrix.so passdb=$sandbox/passdb
auth required $module config=$sandbox/pam_totp.conf state_dir=$sandbox/state
SERVICE

printf 'auth required %s/pam_deny.so\n' "/lib/$multiarch/security" > "$sandbox/services/other"

# A sanitizer build needs its runtime first in the library list.
asan=$(ldd "$build/demo/demo_login" | awk '/libasan/ {print $3}')
first=${asan:+$asan:}
export NSS_WRAPPER_PASSWD="$sandbox/passwd" NSS_WRAPPER_GROUP="$sandbox/group"

echo "Enrolling 'demo': totp-enroll --user demo --config $sandbox/pam_totp.conf --no-confirm"
echo
LD_PRELOAD="${first}/usr/lib/$multiarch/libnss_wrapper.so" "$enroll" --user demo --config "$sandbox/pam_totp.conf" --no-confirm
echo

export LD_PRELOAD="${first}/usr/lib/$multiarch/libpam_wrapper.so:/usr/lib/$multiarch/libnss_wrapper.so"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$sandbox/services"
"$build/demo/demo_login" "$sandbox/state" demo-login "$@"
