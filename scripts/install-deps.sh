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
    libpam-pwquality cracklib-runtime pamtester chromium xvfb i3lock xdotool
    postgresql openssl
    debhelper lintian rpm debootstrap openssh-server sudo curl
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
