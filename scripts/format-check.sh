#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checks that every C and C++ source of the tree (tracked, or new and not ignored) follows
# the checked-in .clang-format; lists the places that do not (fix with clang-format -i).
# Build trees are ignored; fuzz corpora hold inputs, not sources.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard -- '*.c' '*.h' '*.cpp' '*.hpp' \
    ':!:tests/fuzz/corpus/**' |
    while IFS= read -r -d "" file; do if [ -f "$file" ]; then printf "%s\0" "$file"; fi; done |
    xargs -0 clang-format --dry-run --Werror
