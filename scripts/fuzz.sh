#!/usr/bin/env bash
# Runs every fuzz target in tests/fuzz (cargo-fuzz, libFuzzer) for a bounded time each, from
# the committed seeds, and prints what each covered. Exits non-zero on any crash, printing the
# input (the target's `artifacts/` folder keeps it too).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default 60
#
# Installs what it needs: the nightly toolchain (rustup) and cargo-fuzz (crates.io).
set -euo pipefail
cd "$(dirname "$0")/../tests/fuzz"
seconds=${1:-60}

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked

# No address sanitizer: the workspace forbids unsafe code, and what a fuzzer finds here is a
# panic or a broken property, which libFuzzer reports without one (and twice as fast).
fuzz() { cargo +nightly fuzz "$1" -s none --fuzz-dir . "${@:2}"; }
# tide's HTTP codec pulls in rustix 0.37, whose build script turns on a nightly feature that
# today's nightly refuses. Allowing no unstable feature but the one cookie (under http-types)
# asks for makes that probe fail, and rustix builds as on stable. ("2 of 7" drops the codec.)
export RUSTFLAGS="-Zallow-features=doc_cfg"
fuzz build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in $(cargo +nightly fuzz list --fuzz-dir .); do
    mkdir -p "$work/$target"
    # New inputs go to the work folder; the committed corpus only seeds.
    if fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$work/$target.log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/$target.log")
        echo "$target: $runs inputs in ${seconds}s; $(grep -o 'cov: [0-9]* ft: [0-9]* corp: [^ ]*' "$work/$target.log" | tail -n 1)"
    else
        status=1
        echo "$target: FAILED" >&2
        grep -E -A 20 'panicked|ERROR|SUMMARY' "$work/$target.log" | head -n 40 >&2
        grep -E 'Test unit written|Base64' "$work/$target.log" >&2 || true
    fi
done
exit "$status"
