#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages pam_totp needs to build, test and run the demo.
# Only runs apt-get when something is missing, so a second run needs no network.
set -euo pipefail
packages=(
    build-essential cmake pkg-config git python3 binutils
    libpam0g-dev libssl-dev libqrencode-dev libiniparser-dev
    libcmocka-dev libpamtest0-dev libpam-wrapper libnss-wrapper
    libcurl4-openssl-dev libpng-dev
    oathtool zbar-tools imagemagick libmagickcore-6.q16-6-extra libpam-google-authenticator libpam-oath
    python3-aiosmtpd tmux expect util-linux
    libmicrohttpd-dev libpam-pwquality cracklib-runtime pamtester chromium
    libpq-dev postgresql openssl
    debhelper lintian rpm openssh-server sudo curl
    clang libclang-rt-14-dev clang-format clang-tidy cppcheck valgrind
)
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
