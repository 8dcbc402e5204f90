#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The man pages both packagings install — pam_totp(8), pam_totp.conf(5), totp-enroll(1),
# totp-resetd(8), totp-verify(8), one source format (roff, docs/) — render without a warning, and document
# what the code accepts beyond the settings (whose lists docs.config_keys, reset.docs_keys
# and enroll.manpage_documents_every_option compare): every command-line option of
# totp-resetd, and the module's config= argument.
#   check_manpages.sh SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
root=$1

for page in pam_totp.8 pam_totp.conf.5 totp-enroll.1 totp-resetd.8 totp-verify.8; do
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$root/docs/$page" 2>&1 >/dev/null)
    check "$page renders without warnings" test -z "$warnings"
    [ -z "$warnings" ] || sed 's/^/    | /' <<<"$warnings"
done

# man_has PAGE TEXT: the page holds TEXT as roff writes it (each - as \-).
man_has() { grep -qF -- "$(sed 's/-/\\-/g' <<<"$2")" "$root/docs/$1"; }

options=$(grep -o 'argument == "--[a-z-]*"' "$root/reset_service/command_line.cpp" | sed 's/.*"\(--[a-z-]*\)"/\1/')
check "found totp-resetd's options in reset_service/command_line.cpp" test -n "$options"
for option in $options; do
    check "totp-resetd(8) documents $option" man_has totp-resetd.8 "$option"
done

argument=$(sed -n 's/.*kConfigArgument = "\([a-z_]*\)=".*/\1/p' "$root/pam_module/options.cpp")
check "found the module's config argument in pam_module/options.cpp" test -n "$argument"
check "pam_totp(8) documents $argument=" grep -qE "^\.BI? $argument=" "$root/docs/pam_totp.8"
finish
