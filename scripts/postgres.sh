#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's packages, for development and CI, without Docker.
#
#   scripts/postgres.sh start [DIR] [PORT]   install if needed, start, print the DATABASE_URL
#   scripts/postgres.sh stop  [DIR]
#
# DIR defaults to /var/tmp/shortener-postgres-$USER (outside the checkout, so the postgres user
# can reach it even when the checkout is under a private home) and PORT to 5432. User and password are postgres/postgres;
# the database `shortener` is created for the services.
set -euo pipefail

cmd=${1:-}
dir=$(realpath -m "${2:-/var/tmp/shortener-postgres-$(id -un)}")
port=${3:-5432}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_postgres() {
    [ -n "$(bindir)" ] && return
    echo "postgres.sh: installing Debian's postgresql" >&2
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

# PostgreSQL refuses to run as root; root runs it as the package's postgres user.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    install_postgres
    bin=$(bindir)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        pwfile=$(mktemp); echo postgres >"$pwfile"; chmod 644 "$pwfile"
        as_owner "$bin/initdb" -D "$dir" -U postgres --pwfile="$pwfile" \
            --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        rm -f "$pwfile"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
    fi
    export PGPASSWORD=postgres
    psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'shortener'" \
        | grep -q 1 || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE shortener"
    echo "postgres://postgres:postgres@127.0.0.1:$port/shortener"
    ;;
stop)
    bin=$(bindir)
    if [ -n "$bin" ] && [ -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "usage: $0 start [DIR] [PORT] | stop [DIR]" >&2
    exit 2
    ;;
esac
