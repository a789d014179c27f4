#!/usr/bin/env bash
# Where url-api's CPU goes: the release binary on ENGINE (tide or axum), beside the PostgreSQL
# and Kafka of scripts/with-services.sh, under wrk (one thread, 64 connections, as the
# benchmark) while `perf record` samples url-api alone, with call stacks. LOAD is
#   GET    one link, redirected again and again (warm: from the cache, a click published each);
#   HEAD   the same answer without a click: the HTTP side alone;
#   COLD   a million links, asked for at random: each a cache miss and a query.
# Prints wrk's figures, the share of each library, the hottest functions by their own samples,
# and url-api's functions by the samples under them (its stages: the span, the repository, the
# pool...). Run it alone on the machine, after
# `cargo build --release -p bootstrap -p migrations --bins`.
#
#   scripts/with-services.sh scripts/profile-url-api.sh ENGINE [GET|HEAD|COLD]
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:?tide or axum}
load=${2:-GET}
: "${TEST_DATABASE_URL:?run under scripts/with-services.sh}"
. scripts/lib/need.sh
. scripts/lib/url_api.sh
need perf linux-perf
need wrk wrk

work=$(mktemp -d /tmp/profile.XXXXXX)
name="profile_$$"
api_pid=""
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    drop_database "$name"
    rm -rf "$work"
}
trap cleanup EXIT
database_url=$(scratch_database "$name" target/release)
port=$(free_port)
# The shipped configuration, rate limits off (wrk is one client), as the benchmark runs it.
HTTP_ENGINE=$engine DATABASE_URL=$database_url KAFKA_BROKERS=$TEST_KAFKA_BROKERS \
    HTTP_ADDR=127.0.0.1:$port DEV_ADDR=127.0.0.1:0 RATE_LIMITS_ENABLED=false \
    ANALYTICS_RPC_URL=http://127.0.0.1:1 target/release/url-api >/dev/null 2>"$work/url-api.log" &
api_pid=$!
wait_until_serving "$port" "$api_pid" "$work/url-api.log"

case $load in
GET | HEAD)
    key=$(api_key "$database_url" target/release admin)
    code=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d '{"original_url":"https://example.com/profiled"}' "http://127.0.0.1:$port/api/v1/urls" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["short_code"])')
    echo "wrk.method = \"$load\"" >"$work/load.lua"
    target=/$code
    ;;
COLD)
    # As the benchmark seeds them, written and settled before the load starts.
    psql "$database_url" -q \
        -c "INSERT INTO urls (short_code, original_url)
            SELECT 'b' || lpad(i::text, 7, '0'), 'https://example.com/b/' || i
            FROM generate_series(1, 1000000) AS i" \
        -c "VACUUM ANALYZE urls" -c "CHECKPOINT"
    cat >"$work/load.lua" <<'LUA'
request = function()
  return wrk.format("GET", string.format("/b%07d", math.random(1, 1000000)))
end
LUA
    target=/
    ;;
*)
    echo "profile-url-api.sh: LOAD is GET, HEAD or COLD, not $load" >&2
    exit 2
    ;;
esac

url="http://127.0.0.1:$port$target"
[ "$load" = COLD ] || wrk -t1 -c64 -d3s -s "$work/load.lua" "$url" >/dev/null
wrk -t1 -c64 -d15s -s "$work/load.lua" "$url" >"$work/wrk.txt" &
wrk_pid=$!
sleep 3
# DWARF stacks: the release build has no frame pointers. 499 Hz keeps the data small.
perf record -q -F 499 --call-graph dwarf,32768 -p "$api_pid" -o "$work/perf.data" \
    -- sleep 10 >/dev/null 2>&1
wait "$wrk_pid"
grep -E "Requests/sec|Latency|Non-2xx" "$work/wrk.txt"
# `head` closes the reports' pipes early: that is not a failure.
set +o pipefail
report() { perf report -q -i "$work/perf.data" -g none "$@" 2>/dev/null; }
echo "--- url-api on $engine, $load: by library"
report --no-children --sort dso | head -6
echo "--- the hottest functions (own samples)"
report --no-children --sort dso,sym | head -30
echo "--- url-api's functions (samples under them)"
# Less the frames every sample is under (threads, the runtime's loop).
report --children --sort sym --dsos url-api | grep -v '\] 0x' | awk '$1 + 0 < 90' | head -40
