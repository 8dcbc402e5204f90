# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# sandbox.sh: run a system test as root inside a private mount namespace, over a copy
# of /etc, so it can add users, set passwords and write PAM service files with the real
# programs (pam_unix, su, sudo, sshd, login, setuid tools) without touching the host.
#
#   . "$(dirname "$0")/lib/sandbox.sh"
#   sandbox_enter "$@"                 # re-runs this script in a new namespace, or skips
#   sandbox_setup                      # private /etc, /run, /var/lib/pam_totp, pam_totp.conf
#   sandbox_add_user alice 'alice-password'
#   sandbox_pam_service login-test <<EOF
#   auth required pam_unix.so
#   EOF
#   sandbox_as alice id -un           # run a command as the user (real and effective ids)
#
# What the namespace gets (all of it disappears when the test's processes exit):
#   $SANDBOX_ROOT       a tmpfs (mode 0755, not nosuid) holding everything private:
#                       etc/ (the copy), home/<user>/, bin/ (setuid copies), tmp/ (1777)
#   /etc                the copy, bind-mounted over the whole directory, so tools that
#                       replace files by rename (sed -i, passwd, useradd) work on it
#   /run                an empty tmpfs (no host daemons' sockets: nscd, logind, dbus;
#                       sudo timestamps and utmp stay private); /run/lock is 1777
#   /var/lib/pam_totp   an empty tmpfs, root 0700 (the module's default state_dir)
#   /etc/security/pam_totp.conf   root 0644, "[global]" only (overwrite it with
#                       sandbox_write_file)
#   with --pid, its own /proc: every process the test started dies with it
#
# The host keeps everything: mounts are private (no propagation back), and a path that
# does not exist on the host (say /var/lib/pam_totp) is created in a private overlay of
# its parent directory, never in the host's directory.
#
# The sandbox lives in a new directory under $TMPDIR (default /tmp), which every user
# must be able to traverse (mode o+x) for setuid programs installed there to be found.
#
# Skips (exit 77, the SKIP_RETURN_CODE of the ctest registration) when not root or when
# the kernel refuses the namespace, with the reason on stdout. Set SANDBOX_REQUIRED=1 (CI
# does, through ctest's environment) to turn a skip into a failure. SANDBOX_TIMEOUT
# (seconds, default 300) bounds the whole run.

SANDBOX_SKIP_CODE=77

sandbox_skip() {
    if [ -n "${SANDBOX_REQUIRED:-}" ]; then
        echo "FAIL: cannot run this system test: $1 (SANDBOX_REQUIRED is set)"
        exit 1
    fi
    echo "SKIP: $1"
    exit "$SANDBOX_SKIP_CODE"
}

# For a test that also checks the host from outside (with lib/check.sh): runs the calling
# script inside the sandbox (sandbox_enter) in a subshell, showing its output; exits with
# the skip code if the sandbox was skipped; otherwise takes over the inner run's counts of
# passed and failed checks and checks that it succeeded. The caller then adds its own
# checks on the host and calls finish. Like the sandbox, its log (removed before it
# returns) is made under $TMPDIR.
sandbox_run_and_count() {
    local log status
    log=$(mktemp)
    (sandbox_enter "$@") | tee "$log"
    status=${PIPESTATUS[0]}
    if [ "$status" -eq "$SANDBOX_SKIP_CODE" ]; then
        rm -f "$log"
        exit "$status"
    fi
    read -r CHECK_PASSED _ CHECK_FAILED _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    CHECK_PASSED=${CHECK_PASSED:-0} CHECK_FAILED=${CHECK_FAILED:-1}
    rm -f "$log"
    echo "--- on the host, after the sandbox exited"
    check "the sandboxed run itself succeeded" test "$status" -eq 0
}

# Re-runs the calling script ($0) with the same arguments inside new mount (and, where
# the kernel allows, PID) namespaces and exits with its status. Inside, returns at once.
sandbox_enter() {
    if [ -n "${_SANDBOX_INNER:-}" ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        sandbox_skip "needs root to create a mount namespace (running as uid $(id -u))"
    fi
    local tool
    for tool in unshare setpriv timeout openssl findmnt; do
        command -v "$tool" >/dev/null || sandbox_skip "$tool is not installed"
    done
    local why
    if ! why=$(unshare --mount --propagation private true 2>&1); then
        sandbox_skip "the kernel refused a mount namespace: $why"
    fi
    local flags=(--mount --propagation private --fork --kill-child)
    if unshare --mount --pid --fork --mount-proc true 2>/dev/null; then
        flags+=(--pid --mount-proc)
    fi
    local dir status=0
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pam_totp-sandbox.XXXXXX")
    _SANDBOX_INNER=1 SANDBOX_DIR=$dir \
        timeout --kill-after=10 "${SANDBOX_TIMEOUT:-300}" \
        unshare "${flags[@]}" -- "$BASH" "$0" "$@" || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "FAIL: the sandboxed test did not finish within ${SANDBOX_TIMEOUT:-300} s"
    fi
    # Seen from here, outside the namespace, the directory is an empty mount point.
    rmdir "$dir" || echo "warning: could not remove $dir"
    exit "$status"
}

sandbox_setup() {
    if [ -z "${_SANDBOX_INNER:-}" ] || [ -z "${SANDBOX_DIR:-}" ]; then
        echo "sandbox_setup: call sandbox_enter first" >&2
        exit 1
    fi
    SANDBOX_ROOT=$SANDBOX_DIR
    mount -t tmpfs -o mode=0755 pam_totp-sandbox "$SANDBOX_ROOT"
    mkdir -m 0755 "$SANDBOX_ROOT/home" "$SANDBOX_ROOT/bin" "$SANDBOX_ROOT/.shadow"
    mkdir -m 1777 "$SANDBOX_ROOT/tmp"

    cp -a /etc "$SANDBOX_ROOT/etc"
    mount --bind "$SANDBOX_ROOT/etc" /etc

    sandbox_private_dir /run 0755 root:root
    mkdir -m 1777 /run/lock
    sandbox_private_dir /var/lib/pam_totp 0700 root:root
    [ -d /etc/security ] || mkdir -m 0755 /etc/security
    echo "[global]" | sandbox_write_file /etc/security/pam_totp.conf 0644 root:root
}

# sandbox_private_dir PATH [MODE] [OWNER]: an empty tmpfs at PATH, private to the namespace.
sandbox_private_dir() {
    local path=$1 mode=${2:-0755} owner=${3:-root:root}
    _sandbox_ensure_dir "$path"
    mount -t tmpfs -o "mode=$mode" pam_totp-sandbox "$path"
    chown "$owner" "$path"
    _SANDBOX_PRIVATE+=("$path")
}

_SANDBOX_PRIVATE=()

# Makes directory PATH exist in the namespace. A missing one is created inside a private
# copy of its parent (see _sandbox_shadow_dir), so the host's tree is never changed.
_sandbox_ensure_dir() {
    local path=$1
    if [ -d "$path" ]; then
        return 0
    fi
    local parent
    parent=$(dirname "$path")
    _sandbox_ensure_dir "$parent"
    if ! _sandbox_is_private "$parent"; then
        _sandbox_shadow_dir "$parent"
    fi
    mkdir "$path"
}

_sandbox_is_private() {
    local dir
    for dir in "${_SANDBOX_PRIVATE[@]}"; do
        if [ "$dir" = "$1" ]; then
            return 0
        fi
    done
    return 1
}

# Covers directory DIR with a tmpfs holding the same entries (same names, owners, modes;
# symlinks copied), each bind-mounted from the original: everything in DIR still works,
# and new names can be added to DIR in this namespace only.
_sandbox_shadow_dir() {
    local dir=$1
    local original=$SANDBOX_ROOT/.shadow/${#_SANDBOX_PRIVATE[@]}
    mkdir -p "$original"
    mount --rbind "$dir" "$original"
    mount -t tmpfs pam_totp-sandbox "$dir"
    chmod --reference="$original" "$dir"
    chown --reference="$original" "$dir"
    local entry
    while IFS= read -r -d '' entry; do
        if [ -L "$original/$entry" ]; then
            cp -a "$original/$entry" "$dir/$entry"
            continue
        elif [ -d "$original/$entry" ]; then
            mkdir "$dir/$entry"
        else
            touch "$dir/$entry"
        fi
        mount --rbind "$original/$entry" "$dir/$entry"
    done < <(find "$original/" -mindepth 1 -maxdepth 1 -printf '%P\0')
    _SANDBOX_PRIVATE+=("$dir")
}

# sandbox_write_file PATH MODE OWNER < CONTENT
sandbox_write_file() {
    local path=$1 mode=$2 owner=$3
    cat >"$path"
    chmod "$mode" "$path"
    chown "$owner" "$path"
}

# sandbox_pam_service NAME < CONTENT: /etc/pam.d/NAME in the copy.
sandbox_pam_service() {
    sandbox_write_file "/etc/pam.d/$1" 0644 root:root
}

# sandbox_add_user NAME PASSWORD [UID]: a user with a SHA-512 crypt password, its own
# group (gid = uid), /bin/bash and a home $SANDBOX_ROOT/home/NAME (0700, the user's).
sandbox_add_user() {
    local name=$1 password=$2 uid=${3:-}
    if getent passwd "$name" >/dev/null; then
        echo "sandbox_add_user: $name already exists" >&2
        return 1
    fi
    if [ -z "$uid" ]; then
        uid=20000
        while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
            uid=$((uid + 1))
        done
    fi
    local hash home=$SANDBOX_ROOT/home/$name
    hash=$(printf '%s\n' "$password" | openssl passwd -6 -stdin)
    echo "$name:x:$uid:$uid:sandbox user:$home:/bin/bash" >>/etc/passwd
    echo "$name:$hash:$(($(date +%s) / 86400)):0:99999:7:::" >>/etc/shadow
    echo "$name:x:$uid:" >>/etc/group
    if [ -f /etc/gshadow ]; then
        echo "$name:!::" >>/etc/gshadow
    fi
    mkdir -m 0700 "$home"
    chown "$uid:$uid" "$home"
}

# sandbox_add_to_group USER GROUP
sandbox_add_to_group() {
    gpasswd -a "$1" "$2" >/dev/null
}

# sandbox_as USER COMMAND...: runs COMMAND with USER's real and effective uid, gid and
# supplementary groups, and a clean environment (HOME, USER, LOGNAME, SHELL, PATH; TERM
# is kept). Put `env VAR=value` in front of COMMAND to pass more.
sandbox_as() {
    sandbox_as_argv "$1"
    shift
    "${SANDBOX_AS_ARGV[@]}" "$@"
}

# sandbox_as_argv USER: sets SANDBOX_AS_ARGV to the command prefix sandbox_as uses, for
# programs that take a command line (expect's spawn, timeout). setpriv keeps root's
# capabilities until its own exec, so the prefix ends in a shell that does the exec
# as the user: path permissions and the setuid bit apply as they would for a login.
sandbox_as_argv() {
    SANDBOX_AS_ARGV=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups --reset-env
        /bin/sh -c 'exec "$@"' sandbox_as)
}

# sandbox_install_setuid FILE: prints the path of a root-owned mode 4755 copy of FILE in
# $SANDBOX_ROOT/bin, on a filesystem that honours setuid and every component of whose
# path any user can traverse.
sandbox_install_setuid() {
    local copy
    copy=$SANDBOX_ROOT/bin/$(basename "$1")
    install -o root -g root -m 4755 "$1" "$copy"
    if findmnt -no OPTIONS --target "$copy" | tr , '\n' | grep -qx nosuid; then
        echo "sandbox_install_setuid: $copy is on a nosuid filesystem" >&2
        return 1
    fi
    local dir=$SANDBOX_ROOT/bin
    while [ "$dir" != / ]; do
        if [ $((0$(stat -c %a "$dir") & 01)) -eq 0 ]; then
            echo "sandbox_install_setuid: other users cannot traverse $dir (set TMPDIR)" >&2
            return 1
        fi
        dir=$(dirname "$dir")
    done
    echo "$copy"
}

# sandbox_enter_system_root BIND_PATH... -- ARGS...: for tests of installed packages, a
# whole private system instead of sandbox_setup's copy of /etc. Call it after
# sandbox_enter, in place of sandbox_setup. It mounts an overlayfs over the host's / whose
# writes all land in a tmpfs: dpkg -i with its maintainer scripts, pam-auth-update,
# useradd, chpasswd and daemons work on it as on a real machine, and the host's /etc,
# /usr, /var/lib/dpkg and users are never written. Inside are the namespace's own /proc,
# the host's /sys and /dev, and empty tmpfs /run (with /run/lock) and /tmp. Each BIND_PATH
# (absolute: the checkout, the packages to install) is bind-mounted read-only at the same
# place. Then it re-runs the calling script ($0) with ARGS, chrooted into that system, with
# SANDBOX_SYSTEM_ROOT=1 in the environment, from / (pass absolute paths); there (the second
# call) it returns at once.
sandbox_enter_system_root() {
    if [ -n "${SANDBOX_SYSTEM_ROOT:-}" ]; then
        return 0
    fi
    if [ -z "${_SANDBOX_INNER:-}" ] || [ -z "${SANDBOX_DIR:-}" ]; then
        echo "sandbox_enter_system_root: call sandbox_enter first" >&2
        exit 1
    fi
    local binds=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        binds+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    SANDBOX_ROOT=$SANDBOX_DIR
    mount -t tmpfs -o mode=0755 pam_totp-sandbox "$SANDBOX_ROOT"
    mkdir "$SANDBOX_ROOT/upper" "$SANDBOX_ROOT/work" "$SANDBOX_ROOT/system"
    local system=$SANDBOX_ROOT/system why
    if ! why=$(mount -t overlay pam_totp-sandbox \
        -o "lowerdir=/,upperdir=$SANDBOX_ROOT/upper,workdir=$SANDBOX_ROOT/work" "$system" 2>&1); then
        sandbox_skip "the kernel refused an overlayfs over /: $why"
    fi
    mount -t proc proc "$system/proc"
    mount --rbind /sys "$system/sys"
    mount --rbind /dev "$system/dev"
    mount -t tmpfs -o mode=0755 pam_totp-sandbox "$system/run"
    mkdir -m 1777 "$system/run/lock"
    mount -t tmpfs -o mode=1777 pam_totp-sandbox "$system/tmp"
    local path
    for path in "${binds[@]}"; do
        mkdir -p "$system$path"
        mount --bind "$path" "$system$path"
        mount -o remount,bind,ro "$system$path"
    done
    local script
    script=$(readlink -f "$0")
    exec chroot "$system" /usr/bin/env SANDBOX_SYSTEM_ROOT=1 "$BASH" "$script" "$@"
}
