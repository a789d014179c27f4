# Sourced by the scripts that run url-api by hand beside the test services (schemathesis.sh,
# profile-url-api.sh): a database of its own on the server TEST_DATABASE_URL names (as a
# superuser), a free port, a key, and waiting until url-api answers.

# scratch_database NAME BIN_DIR: creates database NAME, migrates it with BIN_DIR/migrate and
# prints its URL. drop_database NAME removes it (for the caller's exit trap).
scratch_database() {
    local name=$1 bin=$2 url
    url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$TEST_DATABASE_URL" "$name")
    psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name" >/dev/null
    DATABASE_URL=$url "$bin/migrate" up >/dev/null
    echo "$url"
}

drop_database() {
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}

# api_key DATABASE_URL BIN_DIR ROLE: a new key, made as an operator makes one.
api_key() {
    DATABASE_URL=$1 "$2/admin" keys create --name "$(basename "$0")" --role "$3" | tail -n 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until_serving PORT PID LOG: waits up to 10 s for url-api on PORT to answer; fails,
# printing LOG, when its process PID ends first or the time runs out.
wait_until_serving() {
    local port=$1 pid=$2 log=$3
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$(basename "$0"): url-api did not start; its log:" >&2
    tail -n 50 "$log" >&2
    return 1
}
