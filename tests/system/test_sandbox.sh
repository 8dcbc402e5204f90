#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The system-test harness (lib/sandbox.sh) gives a test real users, passwords, PAM
# service files and setuid programs, and the host keeps none of it.
#   test_sandbox.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/sandbox.sh"
. "$here/lib/check.sh"

# What a system test must never change on the host.
host_snapshot() {
    sha256sum /etc/passwd /etc/shadow /etc/group /etc/gshadow 2>&1
    find /etc/pam.d /etc/security -printf '%p %m %U %s %T@\n' 2>&1 | sort
    ls -ld /var/lib/pam_totp 2>&1
}

if [ -z "${_SANDBOX_INNER:-}" ]; then
    before=$(host_snapshot)
    scratch=$(mktemp -d)
    chmod 0711 "$scratch"
    trap 'rmdir "$scratch"' EXIT  # also when the sandbox is skipped
    TMPDIR=$scratch sandbox_run_and_count "$@"
    check "host passwd, shadow, group, pam.d, security and /var/lib/pam_totp are unchanged" \
        test "$before" = "$(host_snapshot)"
    check "the sandbox left nothing behind in TMPDIR" test -z "$(ls -A "$scratch")"
    finish
fi

sandbox_setup
for tool in expect pamtester; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done

sandbox_add_user sbuser 'sb-Pass word'
sandbox_pam_service sandbox-unix <<EOF
auth    required    pam_unix.so
account required    pam_unix.so
EOF

check "/etc is the private copy" test "$(findmnt -no FSTYPE /etc)" = tmpfs
check "the user exists in the copy" test "$(getent passwd sbuser | cut -d: -f6)" = "$SANDBOX_ROOT/home/sbuser"
check "the home directory is the user's, 0700" test "$(stat -c %U:%a "$SANDBOX_ROOT/home/sbuser")" = sbuser:700
check "sandbox_as runs as the user" test "$(sandbox_as sbuser id -un)" = sbuser
check "sandbox_as gives the user's home" test "$(sandbox_as sbuser sh -c 'echo $HOME')" = "$SANDBOX_ROOT/home/sbuser"

transcript=$(DRIVE_PASSWORD='sb-Pass word' expect -f "$here/lib/drive.exp" pamtester sandbox-unix sbuser authenticate 2>&1)
check "pam_unix accepts the user's password" test $? -eq 0
check_output "pamtester reports success" "successfully authenticated" "$transcript"
check_no_output "the password is not echoed" "DRIVE-ECHO-LEAK" "$transcript"
transcript=$(DRIVE_PASSWORD='wrong' expect -f "$here/lib/drive.exp" pamtester sandbox-unix sbuser authenticate 2>&1)
check "pam_unix refuses a wrong password" test $? -ne 0

check "/var/lib/pam_totp is root 0700" test "$(stat -c %U:%a /var/lib/pam_totp)" = root:700
check "/var/lib/pam_totp is empty" test -z "$(ls -A /var/lib/pam_totp)"
check "the rest of /var/lib is still there" test -s /var/lib/dpkg/status
check "pam_totp.conf is root 0644" test "$(stat -c %U:%a /etc/security/pam_totp.conf)" = root:644
check "/run is private: nothing of the host's" test -z "$(ls -A /run | grep -vx -e lock -e mount)"

copy=$(sandbox_install_setuid "$(command -v id)")
check "a setuid copy runs with euid 0 for the user" test "$(sandbox_as sbuser "$copy" -u)" = 0
check "the setuid copy is root 4755" test "$(stat -c %U:%a "$copy")" = root:4755
finish
