#!/usr/bin/env bash
# A smoke test of a running stack (`docker compose up`): shorten a link, follow it, see the click
# counted, scrape each service's /metrics, and ask Prometheus whether it scrapes all three.
# Every wait is bounded; the first failed check stops the script with a message.
#
#   API_KEY=sk_... scripts/smoke.sh [HOST]
#       HOST defaults to localhost (url-api :8080, dev ports :6470-6472, Prometheus :9090);
#       API_KEY is a key of the stack (docker compose run --rm -T admin keys create ...).
#   API_KEY=sk_... scripts/smoke.sh --embedded [HOST]
#       the embedded shortener instead (:8080 and its dev port :6470; its clicks stay in process).
set -euo pipefail

embedded=""
if [ "${1:-}" = --embedded ]; then embedded=1; shift; fi
host=${1:-localhost}
api="http://$host:8080"
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
[ -n "${API_KEY:-}" ] || fail "API_KEY is not set (see the top of this script)"
auth="Authorization: Bearer $API_KEY"

# 0. Without the key, management is refused.
status=$(curl -sS -o /dev/null -w '%{http_code}' "$api/api/v1/links")
[ "$status" = 401 ] || fail "GET /api/v1/links without a key answered $status, not 401"
echo "smoke: GET /api/v1/links without a key -> 401"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. Shorten.
target="https://example.com/smoke/$(date +%s%N)"
created=$(curl -fsS -X POST "$api/api/v1/urls" -H 'content-type: application/json' -H "$auth" \
    -d "{\"original_url\": \"$target\"}") || fail "POST /api/v1/urls"
code=$(json "['short_code']" <<<"$created")
echo "smoke: shortened $target -> $(json "['short_url']" <<<"$created")"

# 2. Follow it.
read -r status location < <(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' "$api/$code")
[ "$status" = 302 ] && [ "$location" = "$target" ] || fail "GET /$code answered $status $location"
echo "smoke: GET /$code -> 302 $location"

# 3. The click travels url-api -> Kafka -> analytics-consumer -> PostgreSQL -> analytics-rpc (or,
#    embedded, through the in-process queue into SQLite).
clicks=null
for _ in $(seq 1 60); do
    clicks=$(curl -fsS -H "$auth" "$api/api/v1/links/$code" | json "['total_clicks']")
    [ "$clicks" = 1 ] && break
    sleep 1
done
[ "$clicks" = 1 ] || fail "total_clicks is $clicks after 60 s, not 1"
echo "smoke: total_clicks = 1"

# 4. Each dev server's /metrics shows that traffic.
expect_series() {
    curl -fsS "http://$host:$1/metrics" | grep -E "^$2" >/dev/null || fail ":$1/metrics lacks $2"
    echo "smoke: :$1/metrics has $2"
}
expect_series 6470 'http_server_requests_code_total\{code="302",method="GET",path="/:code"\} [1-9]'
if [ -n "$embedded" ]; then
    expect_series 6470 'click_events_delivered_total(\{[^}]*\})? [1-9]'
    echo "smoke: passed"
    exit 0
fi
expect_series 6471 'rpc_server_requests_code_total\{code="0",method="/analytics.v1.Analytics/GetClickCount"\} [1-9]'
expect_series 6472 'click_consumer_events_stored_total(\{[^}]*\})? [1-9]'

# 5. Prometheus scrapes all three.
up=""
for _ in $(seq 1 60); do
    up=$(curl -fsS "http://$host:9090/api/v1/query?query=up" | python3 -c '
import json, sys
rows = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted(r["metric"]["job"] for r in rows if r["value"][1] == "1")))') || true
    [ "$up" = "analytics-consumer analytics-rpc url-api" ] && break
    sleep 1
done
[ "$up" = "analytics-consumer analytics-rpc url-api" ] || fail "Prometheus has up=1 only for: '$up'"
echo "smoke: Prometheus up{job} = 1 for $up"
echo "smoke: passed"
