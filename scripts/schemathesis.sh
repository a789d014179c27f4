#!/usr/bin/env bash
# schemathesis against a real url-api: the binary `cargo build` makes, on a database of its
# own (on the PostgreSQL server TEST_DATABASE_URL names, as a superuser) and a topic of its own
# (on the brokers TEST_KAFKA_BROKERS names), with every check, bounded in examples and time;
# once on each HTTP engine named (both by default). Prints what it covered; exits non-zero on
# any finding.
#
#   TEST_DATABASE_URL=... TEST_KAFKA_BROKERS=... scripts/schemathesis.sh [MAX_EXAMPLES [ENGINE...]]
#
# schemathesis comes from PyPI into a venv under ~/.cache/shortener (made once).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
shift || true
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(tide axum)
version=4.32.5
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/shortener/schemathesis-$version}
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL (scripts/postgres.sh start prints one)}"
: "${TEST_KAFKA_BROKERS:?set TEST_KAFKA_BROKERS (scripts/kafka.sh start prints one)}"

if [ ! -x "$venv/bin/st" ]; then
    echo "schemathesis.sh: installing schemathesis $version from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$version" >&2
fi

cargo build -q --bins -p bootstrap -p migrations

work=$(mktemp -d /tmp/schemathesis.XXXXXX)
name="schemathesis_$(date +%s)_$$"
admin_url=$TEST_DATABASE_URL
database_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$admin_url" "$name")
api_pid=""
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

psql "$admin_url" -qc "CREATE DATABASE $name" >/dev/null
DATABASE_URL=$database_url target/debug/migrate up >/dev/null
# A member's key, made as an operator makes one: schemathesis sends it with every call, and its
# `ignored_auth` check proves the routes refuse calls without it.
key=$(DATABASE_URL=$database_url target/debug/admin keys create --name schemathesis --role member | tail -n 1)

# The shipped configuration, but no shedding (the machine is busy with the run itself), no rate
# limits (hundreds of calls from one key in seconds: a load test) and a topic of its own.
sed -e 's/shedding: true/shedding: false/' -e "s/^  topic: click-events$/  topic: $name/" \
    bootstrap/etc/url-api.yaml >"$work/url-api.yaml"

# url-api on ENGINE, then schemathesis against it.
run_on() {
    local engine=$1 port status=0
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "schemathesis.sh: url-api on $engine" >&2
    HTTP_ENGINE=$engine DATABASE_URL=$database_url KAFKA_BROKERS=$TEST_KAFKA_BROKERS \
        HTTP_ADDR=127.0.0.1:$port RATE_LIMITS_ENABLED=false DEV_ADDR=127.0.0.1:0 \
        BASE_URL=http://127.0.0.1:$port ANALYTICS_RPC_URL=http://127.0.0.1:1 \
        RUST_LOG=warn target/debug/url-api --config "$work/url-api.yaml" 2>"$work/url-api.log" &
    api_pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break
        kill -0 "$api_pid" 2>/dev/null || { cat "$work/url-api.log" >&2; return 1; }
        sleep 0.1
    done
    (cd "$work" && timeout 900 "$venv/bin/st" --config-file "$OLDPWD/tests/schemathesis.toml" \
        run "$OLDPWD/adapters/http/openapi.json" --url "http://127.0.0.1:$port" \
        --checks all --max-examples "$examples" --max-redirects 0 --no-color \
        --header "Authorization: Bearer $key") || status=$?
    if [ "$status" -ne 0 ]; then
        echo "schemathesis.sh: url-api's log ($engine):" >&2
        tail -n 50 "$work/url-api.log" >&2
    fi
    kill "$api_pid" 2>/dev/null
    wait "$api_pid" 2>/dev/null || true
    api_pid=""
    return "$status"
}

failed=0
for engine in "${engines[@]}"; do
    run_on "$engine" || failed=1
done
exit "$failed"
