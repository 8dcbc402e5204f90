#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Extracts the texts shown to users (core/include/totp/translation.hpp: translate(),
# translate_count(), N_()) from the sources into the template of the text domain pam_totp.
#
# Usage: po/update-pot.sh [OUTPUT]    (default: po/pam_totp.pot)
# After it, update each catalog: msgmerge --update --backup=none po/LANG.po po/pam_totp.pot
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
output=${1:-$root/po/pam_totp.pot}
cd "$root"
# Sorted, relative names: the template does not depend on the checkout's path or order.
files=$(find core/include core/src pam_module enroll_tool -name '*.cpp' -o -name '*.hpp' |
    LC_ALL=C sort)
# shellcheck disable=SC2086 # one word per file name (no spaces in the tree)
xgettext --language=C++ --from-code=UTF-8 --add-comments=TRANSLATORS: \
    --keyword= --keyword=translate --keyword=translate_count:1,2 \
    --keyword=translate_filled --keyword=N_ \
    --package-name=pam_totp --copyright-holder="pam_totp maintainers" \
    --msgid-bugs-address=maintainers@users.noreply.b-seed-2e019ffe.example --sort-by-file \
    --output="$output" $files
