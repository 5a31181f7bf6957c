#!/usr/bin/env bash
# The main job on the embedded default stack: build, run the requirement suites against the
# in-process fakes (ctest labels unit and fake), run the chaos catalogue (scenarios/) against the
# default stack in fake mode on simulated time, and write the traceability report and the
# timelines. One seed for everything, printed first. (`ci/test.sh` runs every label, local and
# chaos included.)
set -uo pipefail
cd "$(dirname "$0")/.."

ci/deps.sh || exit 1
# ccache hits across clones and checkouts: paths are taken relative to the source tree.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset default >/dev/null || exit 1
cmake --build --preset default -j "$(nproc)" || exit 1

seed="${FAULTLINE_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
export FAULTLINE_SEED="$seed"
echo "faultline demo: seed $seed (reproduce with FAULTLINE_SEED=$seed ci/demo.sh)"

out=build/demo
rm -rf "$out"
mkdir -p "$out/results"
# Each test program writes its GoogleTest XML under build/results/<label>/; keep this run's apart.
rm -rf build/results
ctest --preset default -j "$(nproc)" -L 'unit|fake' --output-junit "$PWD/$out/results/ctest.xml"
ctest_rc=$?
cp -r build/results/* "$out/results/" 2>/dev/null

# The chaos catalogue against the embedded default stack (fake mode, simulated time), same seed.
build/bin/faultline --log-level off chaos run --all --backend fake --seed "$seed" --out "$out/chaos"
chaos_rc=$?

args=()
for dir in "$out"/results/*/; do args+=(--results "${dir%/}"); done
args+=(--results "$out/results/ctest.xml=ctest")
[[ -f "$out/chaos/junit.xml" ]] && args+=(--results "$out/chaos/junit.xml=fake")
build/bin/faultline report --matrix fixtures/req-infra.yaml "${args[@]}" --out "$out/report"
report_rc=$?

echo
echo "report: $out/report/traceability.html (open in a browser), $out/report/traceability.md"
echo "chaos timelines:"
ls "$out"/chaos/*/timeline.html 2>/dev/null | sed 's/^/  /'
[[ $ctest_rc -eq 0 && $report_rc -eq 0 && $chaos_rc -eq 0 ]]
