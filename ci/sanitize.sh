#!/usr/bin/env bash
# Runs the whole ctest suite under a sanitizer build: `asan` (AddressSanitizer + UBSan) or `tsan`
# (ThreadSanitizer), each its own CMake preset and build directory.
#
#   ci/sanitize.sh [asan|tsan|both]
#
# Which one, when not named: $FAULTLINE_SANITIZER, else the CI rule — ASan on even UTC days, TSan on
# odd ones (day = seconds since the epoch / 86400). Both builds from cold do not fit CI's 90
# minutes on two cores beside the default build, so CI alternates; `both` runs one after the other.
set -uo pipefail
cd "$(dirname "$0")/.."

which=${1:-${FAULTLINE_SANITIZER:-}}
if [[ -z "$which" ]]; then
  day=$(($(date -u +%s) / 86400))
  if ((day % 2 == 0)); then which=asan; else which=tsan; fi
  echo "ci/sanitize.sh: UTC day $day is $( ((day % 2 == 0)) && echo even || echo odd): $which"
fi
case "$which" in
  asan | tsan) ;;
  both) "$0" asan && exec "$0" tsan ;;
  *)
    echo "usage: ci/sanitize.sh [asan|tsan|both]" >&2
    exit 2
    ;;
esac

ci/deps.sh || exit 1
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset "$which" >/dev/null || exit 1
cmake --build --preset "$which" -j "$(nproc)" || exit 1
export FAULTLINE_SEED="${FAULTLINE_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
echo "ci/sanitize.sh: $which, seed $FAULTLINE_SEED (reproduce with FAULTLINE_SEED=$FAULTLINE_SEED ci/sanitize.sh $which)"
ctest --preset "$which" -j "$(nproc)" --output-on-failure
rc=$?
[[ $rc -eq 0 ]] || echo "ci/sanitize.sh: $which FAILED" >&2
exit $rc
