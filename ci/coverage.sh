#!/usr/bin/env bash
# Line and branch coverage of faultline's own code under its test suites, with gcovr.
# Writes build-coverage/coverage/index.html and prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/deps.sh
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "$(nproc)"
find build-coverage -name '*.gcda' -delete
ctest --preset coverage -j "$(nproc)" || true
mkdir -p build-coverage/coverage
gcovr --root . --filter 'harness/' --filter 'fakes/' --filter 'chaos/' \
  --exclude '.*_test\.cpp' --html-details build-coverage/coverage/index.html --print-summary \
  build-coverage
