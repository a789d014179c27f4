#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker and controller in one process, no ZooKeeper), from
# Maven Central's jars, for development and CI without Docker.
#
#   scripts/kafka.sh start [DIR] [PORT]   fetch the jars if needed, format, start, wait until ready,
#                                         and print the bootstrap address
#   scripts/kafka.sh stop  [DIR]
#   scripts/kafka.sh jars                 fetch the jars if needed and print their folder
#
# DIR defaults to /var/tmp/shortener-kafka-$USER, PORT to 9092 (the controller takes PORT+1).
# Jars are cached in ${KAFKA_CACHE:-$HOME/.cache/shortener/kafka}. Java 17 and Maven are
# Debian's, installed when missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib/need.sh
. "$here/lib/need.sh"
cmd=${1:-}
dir=$(realpath -m "${2:-/var/tmp/shortener-kafka-$(id -un)}")
port=${3:-9092}
cache=${KAFKA_CACHE:-$HOME/.cache/shortener/kafka}
version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$here/kafka/pom.xml")
libs="$cache/$version"

fetch_jars() {
    [ -f "$libs/.complete" ] && return
    need mvn maven
    echo "kafka.sh: fetching Apache Kafka $version from Maven Central" >&2
    rm -rf "$libs"
    mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$libs" >&2
    touch "$libs/.complete"
}

kafka_java() {
    need java openjdk-17-jre-headless
    java -Xms256m -Xmx512m -Dlog4j2.configurationFile="$dir/log4j2.properties" \
        -cp "$libs/*" "$@"
}

write_config() {
    mkdir -p "$dir"
    cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
    cat >"$dir/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
PROPS
}

running() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

case "$cmd" in
start)
    if running; then echo "127.0.0.1:$port"; exit 0; fi
    fetch_jars
    write_config
    if [ ! -f "$dir/data/meta.properties" ]; then
        kafka_java kafka.tools.StorageTool format --cluster-id "$(kafka_java kafka.tools.StorageTool random-uuid)" \
            --config "$dir/server.properties" >/dev/null
    fi
    : >"$dir/server.log"
    nohup java -Xms256m -Xmx512m -Dlog4j2.configurationFile="$dir/log4j2.properties" \
        -cp "$libs/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    # Ready means the broker says so; a bounded wait, so a broken start fails instead of hanging.
    for _ in $(seq 1 240); do
        if grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null; then
            echo "127.0.0.1:$port"
            exit 0
        fi
        if ! running; then break; fi
        sleep 0.5
    done
    echo "kafka.sh: the broker did not start; see $dir/server.log and $dir/stdout.log" >&2
    tail -n 20 "$dir/server.log" "$dir/stdout.log" >&2 || true
    exit 1
    ;;
jars)
    fetch_jars
    echo "$libs"
    ;;
stop)
    if running; then
        pid=$(cat "$dir/pid")
        kill "$pid"
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
    ;;
*)
    echo "usage: $0 start [DIR] [PORT] | stop [DIR] | jars" >&2
    exit 2
    ;;
esac
