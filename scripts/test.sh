#!/usr/bin/env bash
# Every test, unit and integration, in one command on a fresh Debian 12 machine with Rust: starts
# its own PostgreSQL and Kafka (installing what is missing), runs `cargo test --workspace`, and
# stops them. Arguments replace `--workspace` (`scripts/test.sh -p domain`,
# `scripts/test.sh --workspace -- store_contract`). The fault tests append what they measured to
# $FAULT_REPORT when it is set.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- --workspace
exec scripts/with-services.sh cargo test --locked "$@"
