#!/usr/bin/env bash
# Builds and runs the stack benchmarks and prints the figures as a table.
#
#   suites/bench/stack/run.sh [--mode fake|local|both] [--runs N] [--stack FILE]
#
# Builds in $BUILD_DIR (default build-bench, configured as Release if new; an existing build
# directory keeps its build type). The local rows need PostgreSQL 15 and redis-server (the
# StackSession leaves out what the machine lacks and says so on a '#' line).
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j2 --target stack_bench >/dev/null
bench=$(find "$build" -name stack_bench -type f -perm -u+x | head -1)
figures=$("$bench" "$@")
echo "$figures" | grep '^#' || true
printf '| %-20s | %10s | %-4s |\n' benchmark figure unit
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..22})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..6})"
echo "$figures" | grep -v '^#' | while read -r name value unit; do
  printf '| %-20s | %10s | %-4s |\n' "$name" "$value" "$unit"
done
echo "command: BUILD_DIR=$build suites/bench/stack/run.sh $*"
