#!/usr/bin/env bash
# Every test, unit and integration, in one command on a fresh Debian 12 machine with Rust: starts
# its own PostgreSQL and Kafka (installing what is missing), runs `cargo test --workspace`, and
# stops them. Arguments replace `--workspace` (`scripts/test.sh -p domain`,
# `scripts/test.sh --workspace -- store_contract`). The fault tests append what they measured to
# $FAULT_REPORT when it is set.
#
#   scripts/test.sh --coverage [ARGS...]
#       the same run with the workspace's crates instrumented by cargo-llvm-cov (installed with
#       llvm-tools when missing), the binaries the integration tests start included; prints line
#       coverage per crate and fails below the floor (scripts/lib/coverage_table.py). The HTML
#       report is left in target/coverage/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
coverage=""
if [ "${1:-}" = --coverage ]; then coverage=1; shift; fi
[ $# -gt 0 ] || set -- --workspace
[ -n "$coverage" ] || exec scripts/with-services.sh cargo test --locked "$@"

rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
command -v cargo-llvm-cov >/dev/null || cargo install cargo-llvm-cov --version 0.9.1 --locked
# Only the workspace's crates are instrumented (through a rustc wrapper), in target/ as usual, so
# the dependencies' builds are shared with plain runs. Cargo can't see the wrapper, hence the
# cleans: before, so that every workspace crate is built instrumented; after, so that a later
# plain build is not.
eval "$(cargo llvm-cov show-env --sh 2>/dev/null)"
cargo llvm-cov clean --workspace
trap 'cargo llvm-cov clean --workspace' EXIT
scripts/with-services.sh cargo test --locked "$@"
mkdir -p target/coverage
cargo llvm-cov report --json --summary-only --output-path target/coverage/summary.json
cargo llvm-cov report --html --output-dir target/coverage >/dev/null
python3 scripts/lib/coverage_table.py target/coverage/summary.json
