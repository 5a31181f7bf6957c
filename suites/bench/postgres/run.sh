#!/usr/bin/env bash
# Runs the PostgreSQL fake benchmarks and prints a figures table (markdown).
# Usage: suites/bench/postgres/run.sh [build-dir]   (default: build; build the `benchmarks` target first)
set -euo pipefail
build="${1:-build}"
bin="$build/bench/bench_postgres"
if [[ ! -x "$bin" ]]; then
  echo "missing $bin: cmake --build $build --target benchmarks" >&2
  exit 2
fi
json="$(mktemp)"
trap 'rm -f "$json"' EXIT
"$bin" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
       --benchmark_format=json --benchmark_out="$json" --benchmark_out_format=json >/dev/null
python3 - "$json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
rows = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    rows[b["run_name"]] = b
def us(name):
    b = rows.get(name)
    if not b or b.get("error_occurred"):
        return None
    return b["real_time"] if b["time_unit"] == "us" else b["real_time"] / 1000.0
print("| benchmark | median (3 repetitions) | target |")
print("|-----------|------------------------|--------|")
fake, real = us("BM_SelectOne_Fake"), us("BM_SelectOne_RealPostgres15")
print(f"| `SELECT 1` round trip, libpqxx -> fake | {fake:.1f} us |  no slower than real |" if fake else "| fake | n/a | |")
print(f"| `SELECT 1` round trip, libpqxx -> PostgreSQL 15 | {real:.1f} us | |" if real else "| `SELECT 1` real | skipped (no PostgreSQL 15) | |")
if fake and real:
    print(f"| fake / real | {fake/real:.2f}x | <= 1.00x |")
for name, label in (("BM_FakeStart", "fake start"), ("BM_FakeStop", "fake stop")):
    v = us(name)
    print(f"| {label} | {v/1000.0:.3f} ms | < 5 ms |" if v else f"| {label} | n/a | |")
PY
