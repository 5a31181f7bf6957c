#!/usr/bin/env bash
# ci/nightly-chaos.sh STACKFILE — the nightly chaos job: the catalogue against an external stack
# (staging, or anything `faultline up --export-stack` describes) with a fresh seed. Only services
# the stack file marks `chaos: allowed` are touched; scenarios whose modes lack `external` are
# skipped and listed. Writes, under $FAULTLINE_NIGHTLY_OUT (default build/nightly-chaos):
#   runs/NAME/...        each scenario's journal, result.json, timeline.html, junit.xml
#   junit.xml            every scenario as a test case (covers, seed, reproduce properties)
#   faultline_chaos.prom the Prometheus textfile (faultline_scenario_passed{scenario,backend}...)
#   report/              the traceability report of the run (mode: staging)
# Exit status: 0 when every scenario passed, 1 otherwise, 2 on bad input (nothing started).
set -uo pipefail
cd "$(dirname "$0")/.."

stack="${1:-}"
if [[ -z "$stack" || ! -f "$stack" ]]; then
  echo "usage: ci/nightly-chaos.sh STACKFILE (an external stack file)" >&2
  exit 2
fi
bin="${FAULTLINE_BIN:-build/bin/faultline}"
out="${FAULTLINE_NIGHTLY_OUT:-build/nightly-chaos}"
seed="${FAULTLINE_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
echo "nightly chaos: seed $seed, stack $stack (reproduce with FAULTLINE_SEED=$seed $0 $stack)"

rm -rf "$out"
mkdir -p "$out"
"$bin" chaos run --all --backend external --stack "$stack" --seed "$seed" --out "$out/runs"
run_rc=$?
[[ $run_rc -eq 2 ]] && exit 2

cp "$out/runs/junit.xml" "$out/junit.xml" 2>/dev/null
cp "$out/runs/metrics.prom" "$out/faultline_chaos.prom" 2>/dev/null
"$bin" report --matrix fixtures/req-infra.yaml --results "$out/junit.xml=staging" --out "$out/report"
report_rc=$?

echo "nightly chaos: report $out/report/traceability.html, JUnit $out/junit.xml, metrics $out/faultline_chaos.prom"
echo "timelines:"
ls "$out"/runs/*/timeline.html 2>/dev/null | sed 's/^/  /'
[[ $run_rc -eq 0 && $report_rc -eq 0 ]]
