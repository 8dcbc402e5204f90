#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages pam_totp needs, by set:
#   install-deps.sh demo   what scripts/demo.sh needs: build the programs and log in
#                          through pam_wrapper and nss_wrapper
#   install-deps.sh [all]  everything: the demo's set plus the test suite, the peers it
#                          checks against, PostgreSQL, the browser, packaging tools and the
#                          analysers (scripts/test.sh, bench/run.sh)
# Only runs apt-get when something is missing, so a second run needs no network.
set -euo pipefail
set_name=${1:-all}
# Building every program (the reset service and the PostgreSQL backend included).
build=(
    build-essential cmake pkg-config gettext
    libpam0g-dev libssl-dev libqrencode-dev libiniparser-dev
    libcurl4-openssl-dev libpng-dev libmicrohttpd-dev libpq-dev libpwquality-dev libsystemd-dev
    libxml2-dev
)
demo=("${build[@]}" libpam-wrapper libnss-wrapper)
rest=(
    git python3 binutils
    libcmocka-dev libpamtest0-dev
    oathtool zbar-tools imagemagick libmagickcore-6.q16-6-extra libpam-google-authenticator libpam-oath
    python3-pyotp
    python3-aiosmtpd tmux expect util-linux
    python3-aiosmtpd tmux expect util-linux locales
    libpam-pwquality cracklib-runtime pamtester chromium xvfb i3lock xdotool
    postgresql pgbouncer openssl
    debhelper lintian rpm debootstrap openssh-server sudo curl
    selinux-policy-dev setools secilc
    clang libclang-rt-14-dev clang-format clang-tidy cppcheck valgrind
)
case $set_name in
demo) packages=("${demo[@]}") ;;
all) packages=("${demo[@]}" "${rest[@]}") ;;
*)
    echo "usage: $0 [demo|all]" >&2
    exit 2
    ;;
esac
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
        missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# unpack PACKAGE: PACKAGE's files under /var/cache/pam_totp-tests/PACKAGE, for packages
# whose maintainer scripts must not run here: fail2ban's postinst starts the daemon (with
# Debian's sshd jail) wherever no policy-rc.d forbids it; selinux-policy-default's builds
# and installs a whole policy in /etc/selinux. The tests need only their files.
unpack() {
    local dir=/var/cache/pam_totp-tests/$1 download
    [ -e "$dir/.unpacked" ] && return
    echo "install-deps: unpacking $1 into $dir"
    download=$(mktemp -d)
    fetch() { (cd "$download" && apt-get download -q -o APT::Sandbox::User=root "$1"); }
    fetch "$1" || { apt-get update -q && fetch "$1"; }
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-deb -x "$download/$1"_*.deb "$dir"
    touch "$dir/.unpacked"
    rm -rf "$download"
}
if [ "$set_name" = all ]; then
    unpack fail2ban              # fail2ban-regex checks the shipped filter
    unpack selinux-policy-default # the policy the SELinux module is linked against
fi
