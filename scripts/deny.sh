#!/usr/bin/env bash
# The supply-chain check CI runs: cargo-deny over the dependency graph, from deny.toml (licences,
# banned and duplicate crates, sources). Installs cargo-deny when missing. Arguments replace the
# checks: `scripts/deny.sh advisories` needs the network, for the RustSec database.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deny >/dev/null || cargo install cargo-deny --version 0.20.2 --locked
[ $# -gt 0 ] || set -- licenses bans sources
exec cargo deny --locked check "$@"
