#!/usr/bin/env bash
# The benchmark harness (tests/examples/bench): starts a private PostgreSQL and Kafka and the
# three services, seeds the data, drives load from other processes (wrk, pgbench, a gRPC loop),
# and prints one table of figures and ratios to limits measured in the same run. The table is
# saved under results/ as JSON and markdown.
#
#   scripts/bench.sh            the full run: release builds, 10 s per load, 1M links, 10M clicks
#   scripts/bench.sh --smoke    every scenario, small and short, on debug builds (what CI runs:
#                               it proves the harness works; its figures mean little)
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
if ! command -v wrk >/dev/null; then
    echo "bench.sh: installing Debian's wrk" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
# pgbench comes with Debian's PostgreSQL, which scripts/postgres.sh installs when it is missing.

profile=(--release)
[ "${1:-}" = --smoke ] && profile=()
cargo build "${profile[@]}" --locked -q -p bootstrap --bins
exec cargo run "${profile[@]}" --locked -q -p integration-tests --example bench -- "$@"
