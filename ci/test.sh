#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every ctest label this machine supports
# (tests that need what it lacks skip with their reason), measures line coverage (ci/coverage.sh:
# the suite again in the coverage build), then writes the traceability report of this run, with
# the coverage of each requirement's code, to build/report/. Exits non-zero if a test fails, a
# requirement is failing or line coverage is under the gate (80%, FAULTLINE_COVERAGE_GATE).
# FAULTLINE_COVERAGE=0 skips the coverage run (and its gate) for a quicker local loop.
set -uo pipefail
cd "$(dirname "$0")/.."

ci/deps.sh || exit 1
# ccache hits across clones and checkouts: paths are taken relative to the source tree.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset default >/dev/null || exit 1
cmake --build --preset default -j "$(nproc)" || exit 1

# One seed for the whole run, recorded in every test program's XML and in the report.
export FAULTLINE_SEED="${FAULTLINE_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
echo "ci/test.sh: seed $FAULTLINE_SEED (reproduce with FAULTLINE_SEED=$FAULTLINE_SEED ci/test.sh)"

rm -rf build/results build/report
mkdir -p build/results
ctest --preset default -j "$(nproc)" --output-junit "$PWD/build/results/ctest.xml"
ctest_rc=$?

coverage_rc=0
coverage_args=()
if [[ "${FAULTLINE_COVERAGE:-1}" != 0 ]]; then
  FAULTLINE_COVERAGE_GATE=0 ci/coverage.sh
  coverage_rc=$?
  coverage_args=(--coverage build-coverage/coverage/coverage.json
                 --coverage-gate "${FAULTLINE_COVERAGE_GATE:-80}")
fi

args=()
for dir in build/results/*/; do args+=(--results "${dir%/}"); done
args+=(--results build/results/ctest.xml=ctest "${coverage_args[@]}")
build/bin/faultline report --matrix fixtures/req-infra.yaml "${args[@]}" --out build/report --gate
report_rc=$?

echo "traceability report: build/report/traceability.md (also .html, .json; merged build/report/junit.xml)"
if [[ $ctest_rc -ne 0 || $report_rc -ne 0 || $coverage_rc -ne 0 ]]; then
  echo "ci/test.sh: FAILED (ctest exit $ctest_rc, coverage exit $coverage_rc," \
    "report gate exit $report_rc)" >&2
  exit 1
fi
