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
    build-essential cmake pkg-config
    libpam0g-dev libssl-dev libqrencode-dev libiniparser-dev
    libcurl4-openssl-dev libpng-dev libmicrohttpd-dev libpq-dev libpwquality-dev libsystemd-dev
)
demo=("${build[@]}" libpam-wrapper libnss-wrapper)
rest=(
    git python3 binutils
    libcmocka-dev libpamtest0-dev
    oathtool zbar-tools imagemagick libmagickcore-6.q16-6-extra libpam-google-authenticator libpam-oath
    python3-aiosmtpd tmux expect util-linux
    libpam-pwquality cracklib-runtime pamtester chromium
    postgresql openssl
    debhelper lintian rpm debootstrap openssh-server sudo curl
    selinux-policy-dev setools
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

# fail2ban-regex checks the shipped filter. The package is unpacked, not installed: its
# postinst starts the daemon (with Debian's sshd jail) wherever no policy-rc.d forbids it.
fail2ban_dir=/var/cache/pam_totp-tests/fail2ban
if [ "$set_name" = all ] && [ ! -x "$fail2ban_dir/usr/bin/fail2ban-regex" ]; then
    echo "install-deps: unpacking fail2ban into $fail2ban_dir"
    download=$(mktemp -d)
    fetch() { (cd "$download" && apt-get download -q -o APT::Sandbox::User=root fail2ban); }
    fetch || { apt-get update -q && fetch; }
    rm -rf "$fail2ban_dir"
    mkdir -p "$fail2ban_dir"
    dpkg-deb -x "$download"/fail2ban_*.deb "$fail2ban_dir"
    rm -rf "$download"
fi
