#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SSH_ASKPASS for the packaging end-to-end test: ssh runs this once per keyboard-interactive
# question with the question as $1. Each question is appended to $ASKPASS_DIR/prompts; the
# answer is $ASKPASS_DIR/password for the password question, $ASKPASS_DIR/code for the
# verification code. Any other question gets no answer (ssh then gives up).
printf '%s\n' "$1" >>"$ASKPASS_DIR/prompts"
case "$1" in
    *"Verification code"*) cat "$ASKPASS_DIR/code" ;;
    *[Pp]assword*) cat "$ASKPASS_DIR/password" ;;
    *) exit 1 ;;
esac
