#!/bin/bash
# Checks that every C and C++ source git tracks follows the checked-in .clang-format; lists the
# files that do not (fix them with clang-format -i). Build trees are untracked; fuzz corpora
# hold inputs, not sources.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z -- '*.c' '*.h' '*.cpp' '*.hpp' ':!:tests/fuzz/corpus/**' |
    xargs -0 clang-format --dry-run --Werror
