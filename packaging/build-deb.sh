#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# build-deb.sh OUTDIR: builds the Debian source package and the binary packages
# libpam-totp, totp-enroll and totp-resetd with dpkg-buildpackage, from a copy of this
# checkout's sources with packaging/debian as ./debian, and puts the results
# (.dsc, .tar.xz, .deb, .changes, .buildinfo) in OUTDIR.
#
# Needs the Build-Depends of packaging/debian/control (scripts/install-deps.sh installs
# them) and dpkg-dev; runs as any user (Rules-Requires-Root: no).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/source-tree.sh"

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(project_version "$root")
changelog_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ "$version" != "$changelog_version" ]; then
    echo "build-deb: CMakeLists.txt says $version, packaging/debian/changelog $changelog_version" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pam_totp-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
source=$work/pam-totp-$version
copy_source_tree "$root" "$source"
cp -a "$here/debian" "$source/debian"

(cd "$source" && dpkg-buildpackage --build=full --no-sign -j"$(nproc)") >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (last lines above)" >&2
    exit 1
}
rm -f "$out"/pam-totp_* "$out"/libpam-totp*_*.deb "$out"/totp-enroll*_*.deb "$out"/totp-resetd*_*.deb
find "$work" -maxdepth 1 -type f \( -name '*.deb' -o -name '*.dsc' -o -name '*.tar.*' \
    -o -name '*.changes' -o -name '*.buildinfo' \) -exec mv -t "$out" {} +
cp "$work/build.log" "$out/build.log"
ls -1 "$out"
