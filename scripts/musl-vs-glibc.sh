#!/usr/bin/env bash
# The experiment behind the images' choice of glibc over static musl (README: "Images"): builds
# url-api both ways (release, stripped), prints their sizes, then serves warm redirects from each
# in turn on one private PostgreSQL and Kafka, wrk from another process, and prints req/s and
# peak RSS. Installs the musl target (rustup) and Debian's musl-tools when missing. About 15
# minutes the first time, most of it the musl build; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
stripped=target/musl-vs-glibc

if [ "${1:-}" != --measure ]; then
    . scripts/lib/need.sh
    need musl-gcc musl-tools
    need wrk wrk
    rustup target list --installed | grep -q x86_64-unknown-linux-musl \
        || rustup target add x86_64-unknown-linux-musl
    cargo build -q --release --locked -p migrations -p bootstrap --bin migrate --bin admin --bin url-api
    CC_x86_64_unknown_linux_musl=musl-gcc \
        cargo build -q --release --locked --target x86_64-unknown-linux-musl -p bootstrap --bin url-api
    mkdir -p "$stripped"
    strip -o "$stripped/glibc" target/release/url-api
    strip -o "$stripped/musl" target/x86_64-unknown-linux-musl/release/url-api
    for build in glibc musl; do
        echo "url-api, $build, stripped: $(stat -c %s "$stripped/$build") bytes"
    done
    echo "glibc's shared libraries it loads: $(ldd "$stripped/glibc" \
        | awk '$3 ~ /^\// { print $3 } NF == 2 && $1 ~ /^\// { print $1 }' \
        | xargs stat -L -c %s | awk '{ n += $1 } END { print n }') bytes"
    # The measuring half, beside a private PostgreSQL and Kafka on free ports.
    exec scripts/with-services.sh "$0" --measure
fi

db=$TEST_DATABASE_URL
brokers=$TEST_KAFKA_BROKERS
DATABASE_URL=$db target/release/migrate up >/dev/null
key=$(DATABASE_URL=$db target/release/admin keys create --name musl-vs-glibc --role admin | tail -n 1)

# Serves warm redirects from BINARY for 10 s after 3 s of warm-up; prints req/s and peak RSS.
measure() {
    RUST_LOG=warn DATABASE_URL=$db KAFKA_BROKERS=$brokers RATE_LIMITS_ENABLED=false \
        HTTP_ADDR=127.0.0.1:58080 DEV_ADDR=127.0.0.1:58470 BASE_URL=http://127.0.0.1:58080 \
        "$1" --config bootstrap/etc/url-api.yaml 2>/dev/null &
    local pid=$! code rate
    for _ in $(seq 1 100); do
        curl -s -o /dev/null http://127.0.0.1:58080/api/v1/links && break
        sleep 0.2
    done
    code=$(curl -fsS -X POST http://127.0.0.1:58080/api/v1/urls -H "Authorization: Bearer $key" \
        -H 'content-type: application/json' -d '{"original_url": "https://example.com/"}' \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["short_code"])')
    wrk -t1 -c64 -d3s "http://127.0.0.1:58080/$code" >/dev/null
    rate=$(wrk -t1 -c64 -d10s "http://127.0.0.1:58080/$code" | awk '/Requests\/sec/ { print $2 }')
    echo "$2: warm redirects $rate req/s, peak RSS $(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$pid/status") MiB"
    kill -TERM "$pid"
    wait "$pid" || true
}
for turn in 1 2 3; do
    measure "$stripped/glibc" "glibc, turn $turn"
    measure "$stripped/musl" "musl,  turn $turn"
done
