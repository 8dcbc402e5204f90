#!/bin/sh
# Fails when totp-enroll(1) drifts from the command line the tool accepts: every long
# option of enroll_tool/command_line.cpp must appear in docs/totp-enroll.1 as \-\-NAME,
# and every subcommand as the tag of an item (a line starting with .B, .BR or .BI).
#   check_manpage.sh SOURCE_DIR
set -eu
root=$1
source=$root/enroll_tool/command_line.cpp
manpage=$root/docs/totp-enroll.1

options=$(sed -n 's/^ *{"\([a-z-]*\)", *\(required\|no\)_argument.*/\1/p' "$source")
subcommands=$(sed -n 's/^ *{"\([a-z-][a-z-]*\)", *Subcommand::.*/\1/p' "$source")
if [ -z "$options" ] || [ -z "$subcommands" ]; then
    echo "found no options or subcommands in $source: has its layout changed?" >&2
    exit 2
fi

missing=
for option in $options; do
    escaped=$(printf '%s' "$option" | sed 's/-/\\\\-/g')
    grep -q -- "\\\\-\\\\-$escaped" "$manpage" || missing="$missing --$option"
done
for subcommand in $subcommands; do
    grep -qE "^\.(B|BR|BI) \"?$subcommand( |\"|$)" "$manpage" || missing="$missing $subcommand"
done
if [ -n "$missing" ]; then
    echo "missing from $manpage:$missing" >&2
    echo "1 failed" >&2
    exit 1
fi
echo "$(echo $options | wc -w) options and $(echo $subcommands | wc -w) subcommands documented"
echo "1 passed, 0 failed"
