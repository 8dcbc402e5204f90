#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The translations follow the code: po/pam_totp.pot holds exactly the texts the sources mark
# (po/update-pot.sh, compared without line numbers), and every po/*.po compiles with
# msgfmt --check --check-format, has exactly the template's messages and translates all of
# them (nothing untranslated, fuzzy or obsolete).
#
# Usage: check_catalogs.sh SOURCE_DIR
set -eu
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# The messages of a catalog or template, one line each, without locations or the header.
messages() {
    msgattrib --no-location --no-wrap --sort-output "$1" | sed '1,/^$/d'
}
msgids() {
    messages "$1" | grep -E '^msgid(_plural)? '
}

"$root/po/update-pot.sh" "$work/fresh.pot" 2>"$work/xgettext.log" ||
    { cat "$work/xgettext.log" >&2; exit 2; }
messages "$root/po/pam_totp.pot" >"$work/template"
messages "$work/fresh.pot" >"$work/fresh"
if ! diff -u "$work/template" "$work/fresh" >&2; then
    echo "po/pam_totp.pot is out of date: run po/update-pot.sh, then msgmerge each catalog" >&2
    status=1
fi

msgids "$root/po/pam_totp.pot" >"$work/template-ids"
count=0
for po in "$root"/po/*.po; do
    name=$(basename "$po")
    count=$((count + 1))
    if ! msgfmt --check --check-format --statistics -o /dev/null "$po" 2>"$work/stats"; then
        cat "$work/stats" >&2
        echo "$name: msgfmt --check --check-format failed" >&2
        status=1
        continue
    fi
    if grep -qE 'untranslated|fuzzy' "$work/stats"; then
        echo "$name: incomplete: $(cat "$work/stats")" >&2
        status=1
    fi
    if [ -n "$(msgattrib --only-obsolete "$po")" ]; then
        echo "$name: has obsolete entries (msgattrib --no-obsolete)" >&2
        status=1
    fi
    msgids "$po" >"$work/ids"
    if ! diff -u "$work/template-ids" "$work/ids" >&2; then
        echo "$name: messages differ from po/pam_totp.pot (msgmerge it)" >&2
        status=1
    fi
done
[ "$count" -ge 3 ] || { echo "expected at least the de, es and fr catalogs, found $count" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "pam_totp.pot is current; $count catalogs complete and checked"
exit "$status"
