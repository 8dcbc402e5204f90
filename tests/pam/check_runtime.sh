#!/bin/sh
# Fails if a build without sanitizers links the module against libstdc++ or libgcc_s: the
# module carries its own hidden copy (pam_module/CMakeLists.txt), so that loading it into
# a fresh ssh, sudo, su or login process does not map them (about 0.5 ms per login).
set -eu
module=$1
needed=$(readelf -d "$module" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "cannot read the dynamic section of $module" >&2; exit 1; }
case "$needed" in
    *libasan*) echo "sanitizer build: the shared C++ runtime is expected"; exit 0 ;;
esac
if echo "$needed" | grep -Eq '^(libstdc\+\+|libgcc_s)\.'; then
    echo "$module needs the shared C++ runtime:" >&2
    echo "$needed" >&2
    exit 1
fi
echo "runtime ok: $(echo $needed)"
