#!/usr/bin/env bash
# Where url-api's CPU goes under warm redirects: the release binary on ENGINE (tide or axum),
# beside a PostgreSQL and Kafka of its own, one link redirected by wrk (one thread, 64
# connections, as the benchmark) while `perf record -g` samples url-api alone; prints the
# hottest symbols and the share of each library. Run it alone on the machine, after
# `cargo build --release -p bootstrap -p migrations --bins`.
#
#   scripts/with-services.sh scripts/profile-url-api.sh ENGINE [GET|HEAD]
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:?tide or axum}
method=${2:-GET}
: "${TEST_DATABASE_URL:?run under scripts/with-services.sh}"

sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
command -v perf >/dev/null || $sudo apt-get install -y -qq linux-perf >/dev/null
command -v wrk >/dev/null || $sudo apt-get install -y -qq wrk >/dev/null

work=$(mktemp -d /tmp/profile.XXXXXX)
name="profile_$$"
database_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$TEST_DATABASE_URL" "$name")
api_pid=""
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name" >/dev/null
DATABASE_URL=$database_url target/release/migrate up >/dev/null
key=$(DATABASE_URL=$database_url target/release/admin keys create --name profile --role admin | tail -n 1)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The shipped configuration, rate limits off (wrk is one client), as the benchmark runs it.
HTTP_ENGINE=$engine DATABASE_URL=$database_url KAFKA_BROKERS=$TEST_KAFKA_BROKERS \
    HTTP_ADDR=127.0.0.1:$port DEV_ADDR=127.0.0.1:0 RATE_LIMITS_ENABLED=false \
    ANALYTICS_RPC_URL=http://127.0.0.1:1 target/release/url-api >/dev/null 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break
    sleep 0.1
done
code=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"original_url":"https://example.com/profiled"}' "http://127.0.0.1:$port/api/v1/urls" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["short_code"])')
cat >"$work/load.lua" <<LUA
wrk.method = "$method"
LUA
wrk -t1 -c64 -d3s -s "$work/load.lua" "http://127.0.0.1:$port/$code" >/dev/null
wrk -t1 -c64 -d15s -s "$work/load.lua" "http://127.0.0.1:$port/$code" >"$work/wrk.txt" &
wrk_pid=$!
sleep 2
perf record -q -g -p "$api_pid" -o "$work/perf.data" -- sleep 10 >/dev/null 2>&1
wait "$wrk_pid"
grep -E "Requests/sec|Latency" "$work/wrk.txt"
echo "--- url-api on $engine, $method: by library"
perf report -q -g none -i "$work/perf.data" --no-children --sort dso 2>/dev/null | head -12
echo "--- the hottest symbols"
perf report -q -g none -i "$work/perf.data" --no-children --sort dso,sym 2>/dev/null | head -40
