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

. scripts/lib/url_api.sh
work=$(mktemp -d /tmp/schemathesis.XXXXXX)
name="schemathesis_$(date +%s)_$$"
api_pid=""
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    drop_database "$name"
    rm -rf "$work"
}
trap cleanup EXIT

database_url=$(scratch_database "$name" target/debug)
# A member's key: schemathesis sends it with every call, and its `ignored_auth` check proves
# the routes refuse calls without it.
key=$(api_key "$database_url" target/debug member)

# The shipped configuration, but no shedding (the machine is busy with the run itself), no rate
# limits (hundreds of calls from one key in seconds: a load test) and a topic of its own.
sed -e 's/shedding: true/shedding: false/' -e "s/^  topic: click-events$/  topic: $name/" \
    bootstrap/etc/url-api.yaml >"$work/url-api.yaml"

# url-api on ENGINE, then schemathesis against it.
run_on() {
    local engine=$1 port status=0
    port=$(free_port)
    echo "schemathesis.sh: url-api on $engine" >&2
    HTTP_ENGINE=$engine DATABASE_URL=$database_url KAFKA_BROKERS=$TEST_KAFKA_BROKERS \
        HTTP_ADDR=127.0.0.1:$port RATE_LIMITS_ENABLED=false DEV_ADDR=127.0.0.1:0 \
        BASE_URL=http://127.0.0.1:$port ANALYTICS_RPC_URL=http://127.0.0.1:1 \
        RUST_LOG=warn target/debug/url-api --config "$work/url-api.yaml" 2>"$work/url-api.log" &
    api_pid=$!
    wait_until_serving "$port" "$api_pid" "$work/url-api.log" || return 1
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
