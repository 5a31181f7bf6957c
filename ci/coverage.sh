#!/usr/bin/env bash
# Line coverage of faultline's own code (harness/, chaos/, fakes/; tests excluded) under its test
# suites, with gcovr, and the gate: at least $FAULTLINE_COVERAGE_GATE percent of lines (80 unless
# set). Writes build-coverage/coverage/index.html, coverage.json (for the traceability report) and
# prints the summary. Exits 1 below the gate.
set -uo pipefail
cd "$(dirname "$0")/.."
gate=${FAULTLINE_COVERAGE_GATE:-80}
ci/deps.sh || exit 1
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset coverage >/dev/null || exit 1
cmake --build --preset coverage -j "$(nproc)" || exit 1
find build-coverage -name '*.gcda' -delete
export FAULTLINE_SEED="${FAULTLINE_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
# Test failures are the other jobs' to report; coverage measures what ran.
ctest --preset coverage -j "$(nproc)" >/dev/null || true
mkdir -p build-coverage/coverage
gcovr --root . --filter 'harness/' --filter 'fakes/' --filter 'chaos/' \
  --exclude '.*_test\.cpp' --exclude '.*_fuzz\.cpp' --exclude 'harness/testing/.*' \
  --exclude '.*/testing/.*' \
  --html-details build-coverage/coverage/index.html \
  --json-summary build-coverage/coverage/coverage.json --json-summary-pretty \
  --print-summary --fail-under-line "$gate" build-coverage
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "ci/coverage.sh: line coverage is under the ${gate}% gate (or gcovr failed: exit $rc)" >&2
  exit 1
fi
if [[ "$gate" == 0 ]]; then
  echo "ci/coverage.sh: measured (the gate is the traceability report's); details in build-coverage/coverage/index.html"
else
  echo "ci/coverage.sh: line coverage meets the ${gate}% gate; details in build-coverage/coverage/index.html"
fi
