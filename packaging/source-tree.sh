# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# source-tree.sh: copy_source_tree ROOT DEST copies the project's source files (what git
# tracks plus new files it does not ignore; no build trees) from checkout ROOT into DEST,
# so the packages are built from sources only, whatever has been built in ROOT.
# Used by build-deb.sh and build-rpm.sh.

copy_source_tree() {
    local root=$1 dest=$2
    mkdir -p "$dest"
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$root" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' file; do
                # Deleted in the work tree but still tracked: not part of the sources.
                if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
            done | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$dest"
    else
        # An unpacked release tarball: everything but build trees.
        tar -C "$root" --exclude='./build*' -cf - . | tar -xf - -C "$dest"
    fi
}

# project_version ROOT: the version in ROOT/CMakeLists.txt's project() line.
project_version() {
    sed -n 's/^project(pam_totp VERSION \([0-9][0-9.]*\) .*/\1/p' "$1/CMakeLists.txt"
}
