#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when totp-enroll(1) drifts from the command line the tool accepts: every long
# option (as the parser lists them: print_command_names options) must appear in
# docs/totp-enroll.1 as \-\-NAME, and every subcommand as the tag of an item (a line
# starting with .B, .BR or .BI).
#   check_manpage.sh PRINT_COMMAND_NAMES SOURCE_DIR
set -eu
names=$1
root=$2
manpage=$root/docs/totp-enroll.1

options=$("$names" options)
subcommands=$("$names" subcommands)
if [ -z "$options" ] || [ -z "$subcommands" ]; then
    echo "$names listed no options or subcommands" >&2
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
