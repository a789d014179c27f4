#!/usr/bin/env bash
# Runs a command beside a PostgreSQL and an Apache Kafka of its own, each on free ports in a temp
# directory, with TEST_DATABASE_URL, TEST_KAFKA_BROKERS and TEST_GEOIP_DB set for it; stops them
# afterwards, whatever the command did. Everything is installed when missing (Debian's
# PostgreSQL, Java, Maven and npm; Kafka's jars and the GeoIP database into ~/.cache).
#
#   scripts/with-services.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pgdir=$(mktemp -d /tmp/test-postgres.XXXXXX)
kafkadir=$(mktemp -d /tmp/test-kafka.XXXXXX)
cleanup() {
    scripts/kafka.sh stop "$kafkadir" >/dev/null 2>&1 || true
    scripts/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$pgdir" "$kafkadir"
}
trap cleanup EXIT

TEST_DATABASE_URL=$(scripts/postgres.sh start "$pgdir" "$(free_port)")
# The controller listens on the broker's port + 1: find a port whose successor is free too.
while :; do
    kafka_port=$(free_port)
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', $kafka_port + 1))" 2>/dev/null && break
done
TEST_KAFKA_BROKERS=$(scripts/kafka.sh start "$kafkadir" "$kafka_port")
TEST_GEOIP_DB=${TEST_GEOIP_DB:-$(scripts/fetch-geoip.sh)}
export TEST_DATABASE_URL TEST_KAFKA_BROKERS TEST_GEOIP_DB
echo "with-services.sh: PostgreSQL ${TEST_DATABASE_URL#*@}, Kafka $TEST_KAFKA_BROKERS" >&2
"$@"
