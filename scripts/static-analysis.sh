#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# clang-tidy (.clang-tidy) and cppcheck over the project's own sources, using the compile
# commands of a configured build tree:  scripts/static-analysis.sh BUILD_DIR [FILE...]
# Without FILEs every C/C++ source in compile_commands.json outside build trees is checked.
# Exits 1 if either tool reports anything.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "$1" && pwd)
shift
root=$(pwd)
database="$build/compile_commands.json"
[ -f "$database" ] || { echo "static-analysis: $database missing (configure $build first)" >&2; exit 2; }

if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(python3 - "$database" "$root" <<'PY'
import json, os, sys
database, root = sys.argv[1], sys.argv[2]
seen = set()
for entry in json.load(open(database)):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    relative = os.path.relpath(path, root)
    if relative.startswith("..") or relative.split(os.sep)[0].startswith("build"):
        continue
    if relative not in seen:
        seen.add(relative)
        print(relative)
PY
)
fi
status=0

# One compile command per file: clang-tidy checks a file once for each command it has, and
# the module's sources are also compiled into a test library (tests/fuzz). The module's own
# command is kept (the one outside the build's tests/ directory).
tidy_database="$build/static-analysis"
mkdir -p "$tidy_database"
python3 - "$database" "$build" >"$tidy_database/compile_commands.json.new" <<'PY'
import json, os, sys
database, build = sys.argv[1], sys.argv[2]
tests = os.path.join(os.path.realpath(build), "tests") + os.sep
chosen = {}
for entry in json.load(open(database)):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    in_tests = (os.path.realpath(entry["directory"]) + os.sep).startswith(tests)
    if path not in chosen or (chosen[path][0] and not in_tests):
        chosen[path] = (in_tests, entry)
json.dump([entry for _, entry in chosen.values()], sys.stdout, indent=1)
PY
mv "$tidy_database/compile_commands.json.new" "$tidy_database/compile_commands.json"

echo "static-analysis: clang-tidy on ${#files[@]} files"
# One clang-tidy per file, one per core, the largest files first: a file takes about as long
# as it is big, so the last ones to finish are short and no core waits long for them. Each
# file's findings go to a log of their own, put together in the files' order.
# gcc-only warning flags in the database are not clang's business; without _FORTIFY_SOURCE
# the C preload's syslog definitions are not hidden behind glibc's macros.
tidy_logs="$tidy_database/logs"
rm -rf "$tidy_logs"
mkdir -p "$tidy_logs"
tidy_log() { printf '%s/%s.log' "$tidy_logs" "$(printf '%s' "$1" | tr / _)"; }
tidy_one() {
    clang-tidy-14 -quiet -p "$1" --extra-arg=-Wno-unknown-warning-option \
        --extra-arg=-U_FORTIFY_SOURCE "$2/$3" >"$(tidy_log "$3")" 2>&1
}
export -f tidy_log tidy_one
export tidy_logs
tidy_status=0
for file in "${files[@]}"; do printf '%s\t%s\n' "$(wc -c <"$root/$file")" "$file"; done |
    sort -rn | cut -f2- | tr '\n' '\0' |
    xargs -0 -P "$(nproc)" -I{} bash -c 'tidy_one "$@"' _ "$tidy_database" "$root" {} ||
    tidy_status=$?
for file in "${files[@]}"; do
    cat "$(tidy_log "$file")" 2>/dev/null || echo "static-analysis: no clang-tidy log for $file"
done >"$build/clang-tidy.log"
if [ "$tidy_status" -ne 0 ]; then
    grep -E 'warning:|error:' "$build/clang-tidy.log" | sort -u | head -200
    echo "static-analysis: clang-tidy found problems (full log: $build/clang-tidy.log)"
    status=1
fi

echo "static-analysis: cppcheck"
# Suppressed, with the reason:
#   missingIncludeSystem: cppcheck does not read system headers, and says so for each one.
#   readdirCalled: glibc deprecates readdir_r; readdir is safe on a stream of one's own.
#   syntaxError in tests/unit/test_mail.cpp: cppcheck 2.10 cannot parse `+[](...) {...}`.
#   invalidFunctionArg in bench/: mmap(..., MAP_ANONYMOUS, -1, 0) is the documented call.
#   AssignmentAddressToInteger in tests/unit/test_file_store.cpp: a byte array initialized
#     from a string literal, which cppcheck 2.10 mistakes for a pointer.
#   ttynameCalled in enroll_tool/: the tool is single-threaded.
if ! cppcheck --quiet --std=c++20 --language=c++ --inline-suppr --error-exitcode=1 \
        --enable=warning,performance,portability --library=posix \
        --suppress=missingIncludeSystem --suppress=unmatchedSuppression \
        --suppress=readdirCalled --suppress="syntaxError:$root/tests/unit/test_mail.cpp" \
        --suppress="invalidFunctionArg:$root/bench/*" --suppress='*:/usr/*' \
        --suppress="AssignmentAddressToInteger:$root/tests/unit/test_file_store.cpp" \
        --suppress="ttynameCalled:$root/enroll_tool/*" \
        -j "$(nproc)" --project="$database" --file-filter="$root/*" \
        -i "$build" --template='{file}:{line}: {severity}: {message} [{id}]' \
        > "$build/cppcheck.log" 2>&1; then
    grep -v '^$' "$build/cppcheck.log" | head -200
    echo "static-analysis: cppcheck found problems (full log: $build/cppcheck.log)"
    status=1
fi
[ $status -eq 0 ] && echo "static-analysis: clean"
exit $status
