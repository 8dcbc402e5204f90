#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# totp-check(8) keeps in step with the tool: it renders without warnings and documents
# every long option of check_tool/command_line.cpp, every kind of finding the tool reports
# and every exit status.
#   check_manpage.sh SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
root=$1
page=$root/docs/totp-check.8

warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
check "totp-check.8 renders without warnings" test -z "$warnings"
[ -z "$warnings" ] || sed 's/^/    | /' <<<"$warnings"

# man_has TEXT: the page holds TEXT as roff writes it (each - as \-).
man_has() { grep -qF -- "$(sed 's/-/\\-/g' <<<"$1")" "$page"; }

options=$(grep -o '{"[a-z-]*", *\(required\|no\)_argument' "$root/check_tool/command_line.cpp" |
    sed 's/{"\([a-z-]*\)".*/\1/')
check "found totp-check's options in check_tool/command_line.cpp" test -n "$options"
for option in $options; do
    check "totp-check(8) documents --$option" man_has "--$option"
done

kinds=$(sed -n 's/.*constexpr const char\* kKind[A-Za-z]* = "\([a-z-]*\)";.*/\1/p' "$root/check_tool/report.hpp")
check "found the kinds of finding in check_tool/report.hpp" test -n "$kinds"
for kind in $kinds; do
    check "totp-check(8) documents the finding kind $kind" man_has ".B $kind"
done

for status in 0 1 2 3; do
    check "totp-check(8) documents exit status $status" \
        grep -qE "^\.B $status\$" <(sed -n '/^\.SH "EXIT STATUS"/,/^\.SH FILES/p' "$page")
done
finish
