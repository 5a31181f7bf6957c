#!/usr/bin/env bash
# Builds and runs the fault proxy's benchmarks and prints the figures as a table.
#
#   suites/bench/proxy/run.sh [--bulk-mib N] [--rounds N]
#
# Builds in $BUILD_DIR (default build-bench, configured as Release if new; an existing build
# directory keeps its build type). The proxy runs as its own process
# (`faultline proxy`); direct and proxied are measured side by side in the same run. Needs
# redis-server and redis-benchmark for the Redis rows (skipped otherwise).
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j2 --target proxy_bench faultline >/dev/null
figures=$("$build/bin/proxy_bench" --faultline "$build/bin/faultline" "$@")
echo "$figures" | grep '^#' || true
printf '| %-32s | %14s | %-6s |\n' benchmark figure unit
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..34})" "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..8})"
echo "$figures" | grep -v '^#' | while read -r name value unit; do
  printf '| %-32s | %14s | %-6s |\n' "$name" "$value" "$unit"
done
echo "command: BUILD_DIR=$build suites/bench/proxy/run.sh $*"
