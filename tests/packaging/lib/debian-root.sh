# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# debian-root.sh: a minimal Debian 12 (debootstrap --variant=minbase bookworm) for tests
# that install packages on a real, small system.
#
#   . "$here/lib/debian-root.sh"
#   tarball=$(debian_root_tarball pamtester libssl3 ...)   # built once, then cached
#
# The tarball is cached under $DEBIAN_ROOT_CACHE (default /var/cache/pam_totp-tests), one
# per list of extra packages (the name holds a hash of the sorted list), so later runs of
# the suite unpack it in seconds. A lock keeps two runs from building it at once.
# debootstrap fetches from the Debian mirror this host's apt uses (the only network CI
# has), and runs in a private mount namespace: the /proc and /sys it mounts in the new
# system never show on the host.

DEBIAN_ROOT_CACHE=${DEBIAN_ROOT_CACHE:-/var/cache/pam_totp-tests}
DEBIAN_ROOT_SUITE=bookworm

# The first mirror in /etc/apt/sources.list* serving the suite (one-line or deb822 format).
debian_root_mirror() {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | awk -v suite="$DEBIAN_ROOT_SUITE" '
        $1 == "deb" && $3 == suite { print $2; exit }
        $1 == "deb" && $2 ~ /^\[/ && $4 == suite { print $3; exit }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
        /^$/ { uri = "" }'
}

# debian_root_tarball PACKAGE...: prints the path of a .tar.gz of the system with the
# packages installed, building it first when the cache does not have it.
debian_root_tarball() {
    local list key tarball
    list=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
    key=$(printf '%s %s' "$DEBIAN_ROOT_SUITE" "$list" | sha256sum | cut -c1-16)
    tarball=$DEBIAN_ROOT_CACHE/debian-$DEBIAN_ROOT_SUITE-minbase-$key.tar.gz
    mkdir -p "$DEBIAN_ROOT_CACHE"
    (
        flock -w 1800 9 || { echo "debian_root: waited 30 min for $DEBIAN_ROOT_CACHE/.lock" >&2; exit 1; }
        [ -s "$tarball" ] && exit 0
        _debian_root_build "$tarball" "$list"
    ) 9>"$DEBIAN_ROOT_CACHE/.lock" || return 1
    echo "$tarball"
}

_debian_root_build() {
    local tarball=$1 list=$2 mirror work status=0
    mirror=$(debian_root_mirror)
    [ -n "$mirror" ] || { echo "debian_root: no $DEBIAN_ROOT_SUITE mirror in /etc/apt/sources.list*" >&2; return 1; }
    work=$(mktemp -d "$DEBIAN_ROOT_CACHE/build.XXXXXX")
    echo "debian_root: debootstrap --variant=minbase $DEBIAN_ROOT_SUITE from $mirror with: $list" >&2
    unshare --mount --propagation private -- debootstrap --variant=minbase \
        --include="$(tr ' ' ',' <<<"${list% }")" "$DEBIAN_ROOT_SUITE" "$work/root" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || status=$?
    if [ "$status" -eq 0 ]; then
        rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
        tar -C "$work/root" --numeric-owner -czf "$work/root.tar.gz" . && mv "$work/root.tar.gz" "$tarball" ||
            status=$?
    else
        tail -n 20 "$work/debootstrap.log" >&2
    fi
    rm -rf "$work"
    return "$status"
}
