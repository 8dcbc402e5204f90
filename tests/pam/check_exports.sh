#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails unless the module's dynamic symbol table exports pam_sm_authenticate and
# pam_sm_setcred and nothing else, and unless the module loads with all symbols resolved.
set -eu
module=$1
exported=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDBVWRi]$/ {print $3}' | sort)
expected=$(printf 'pam_sm_authenticate\npam_sm_setcred\n')
if [ "$exported" != "$expected" ]; then
    echo "unexpected exports from $module:" >&2
    echo "$exported" >&2
    exit 1
fi
# A sanitizer build needs its runtime loaded first.
asan=$(ldd "$module" | awk '/libasan/ {print $3}')
LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0 \
    python3 -c 'import ctypes,sys; ctypes.CDLL(sys.argv[1], mode=2)' "$module"  # RTLD_NOW
echo "exports ok: $(echo $exported)"
