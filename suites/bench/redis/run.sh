#!/usr/bin/env bash
# Redis fake benchmarks: redis-benchmark GET/SET against `faultline fake redis` and against a
# redis-server started here (same machine, same flags), and the fake's start/stop time.
#
#   suites/bench/redis/run.sh [BUILD_DIR] [REQUESTS]      (defaults: build, 100000)
#
# Needs the `benchmarks` target built in BUILD_DIR. Everything it starts is stopped on exit.
set -euo pipefail
build=${1:-build}
requests=${2:-100000}
clients=50
faultline=$build/bin/faultline
startstop=$build/bench/redis_fake_start_stop_bench
for tool in redis-server redis-benchmark; do
  command -v $tool >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done
[[ -x $faultline && -x $startstop ]] || { echo "run.sh: build the benchmarks target in $build" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/faultline-redis-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() {  # bounded: 20 s
  for _ in $(seq 200); do redis-cli -p "$1" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  echo "run.sh: nothing answers on port $1" >&2; exit 1
}

fake_port=$(free_port)
"$faultline" --log-level warn fake redis --port "$fake_port" > "$work/fake.out" 2>&1 &
pids+=($!)
real_port=$(free_port)
(cd "$work" && exec redis-server --port "$real_port" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no > "$work/redis.out" 2>&1) &
pids+=($!)
wait_ping "$fake_port"
wait_ping "$real_port"

bench() {  # port test -> requests per second
  redis-benchmark -p "$1" -n "$requests" -c "$clients" -t "$2" -q --csv | awk -F'","' 'NR>1 {print $2}'
}
printf "| benchmark | fake | redis-server %s | fake / real |\n" "$(redis-server --version | awk '{print $3}' | cut -d= -f2)"
printf "|-----------|------|--------------|-------------|\n"
for t in set get; do
  f=$(bench "$fake_port" $t)
  r=$(bench "$real_port" $t)
  printf "| redis-benchmark %s (-n %s -c %s), req/s | %s | %s | %.2f |\n" "${t^^}" "$requests" "$clients" "$f" "$r" \
    "$(python3 -c "print(float('$f')/float('$r'))")"
done
"$startstop" 200 | while read -r what median p99 max rounds; do
  printf "| %s (%s) | %s, %s | — | — |\n" "$what" "${rounds#rounds=}" "${median}" "${p99}"
done
echo
echo "command: suites/bench/redis/run.sh $build $requests   (host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
