#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails if one of the given shared objects (the PAM module, the PostgreSQL backend) would
# map libstdc++, libgcc_s or libm, directly or through a library it needs: outside
# sanitizer builds they carry their own hidden copy (totp_own_cxx_runtime() in
# CMakeLists.txt), so that loading them into a fresh ssh, sudo, su or login process does
# not (about 0.5 ms per login).
set -eu
status=0
for object in "$@"; do
    libraries=$(ldd "$object" | awk '$2 == "=>" {print $1}')
    [ -n "$libraries" ] || { echo "cannot list the libraries of $object" >&2; exit 1; }
    runtime=$(echo "$libraries" | grep -E '^(libstdc\+\+|libgcc_s|libm)\.so' || true)
    if [ -n "$runtime" ]; then
        echo "$object maps the shared C++ runtime: $(echo $runtime)" >&2
        status=1
    else
        echo "runtime ok: $object"
    fi
done
exit $status
