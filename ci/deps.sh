#!/usr/bin/env bash
# Installs the Debian packages faultline needs to build and test. Idempotent and quiet: it checks
# what is installed first and runs `apt-get update` only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config clang-format clang libclang-rt-14-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libboost-dev libboost-filesystem-dev
  libpqxx-dev libpq-dev libhiredis-dev librdkafka-dev
  libpugixml-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libssl-dev
  libpg-query-dev
  gcovr
  postgresql-15 postgresql-client redis-server redis-tools kcat
  prometheus prometheus-alertmanager prometheus-node-exporter
  iproute2 procps iptables chromium
)

# Node.js runs the Toxiproxy client compatibility test; a machine may already have its own node.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "ci/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start their servers; faultline starts its own per run, on its own ports.
for svc in redis-server postgresql prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo systemctl stop "$svc" >/dev/null 2>&1 || true
  fi
done
exit 0
