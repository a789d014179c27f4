#!/usr/bin/env bash
# Prints the click pipeline's throughput: events per second from Kafka into durable, counted
# PostgreSQL rows, beside the raw consume rate of the same topic (see
# tests/examples/consumer_throughput.rs).
#
#   scripts/consumer-throughput.sh [EVENTS] [BATCH_SIZE]     (defaults 100000 and 500)
#
# Uses TEST_DATABASE_URL and TEST_KAFKA_BROKERS when set; otherwise starts PostgreSQL and Kafka
# with the scripts beside this one (on their default ports) and leaves them running.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    TEST_DATABASE_URL=$(scripts/postgres.sh start)
    export TEST_DATABASE_URL
fi
if [ -z "${TEST_KAFKA_BROKERS:-}" ]; then
    TEST_KAFKA_BROKERS=$(scripts/kafka.sh start)
    export TEST_KAFKA_BROKERS
fi
exec cargo run --release --quiet -p integration-tests --example consumer_throughput -- "$@"
