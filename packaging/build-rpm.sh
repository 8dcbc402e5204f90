#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# build-rpm.sh OUTDIR [RPMBUILD-OPTION...]: builds the source RPM and the binary RPMs
# pam_totp, totp-enroll and totp-resetd from rpm/pam_totp.spec with rpmbuild, from a tarball
# of this checkout's sources, and puts them in OUTDIR. Further options go to rpmbuild.
#
# Works on Debian (the `rpm` package): the spec's BuildRequires name Fedora packages, so
# they are not checked (--nodeps; scripts/install-deps.sh installs the Debian equivalents),
# and no debuginfo subpackage is made (Debian's rpm lacks Fedora's debuginfo macros).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/source-tree.sh"

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [RPMBUILD-OPTION...]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift

version=$(project_version "$root")
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' "$here/rpm/pam_totp.spec")
if [ "$version" != "$spec_version" ]; then
    echo "build-rpm: CMakeLists.txt says $version, packaging/rpm/pam_totp.spec $spec_version" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pam_totp-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rpmbuild/SOURCES" "$work/src"
copy_source_tree "$root" "$work/src/pam_totp-$version"
tar -C "$work/src" --owner=0 --group=0 -czf "$work/rpmbuild/SOURCES/pam_totp-$version.tar.gz" \
    "pam_totp-$version"

rpmbuild -ba --nodeps \
    --define "_topdir $work/rpmbuild" \
    --define 'debug_package %{nil}' \
    --define "_smp_mflags -j$(nproc)" "$@" \
    "$here/rpm/pam_totp.spec" >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    echo "build-rpm: rpmbuild failed (last lines above)" >&2
    exit 1
}
rm -f "$out"/*.rpm
find "$work/rpmbuild/RPMS" "$work/rpmbuild/SRPMS" -name '*.rpm' -exec mv -t "$out" {} +
cp "$work/build.log" "$out/build.log"
ls -1 "$out"
