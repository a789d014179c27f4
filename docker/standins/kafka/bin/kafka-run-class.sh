#!/usr/bin/env bash
# Runs a Kafka main class on the image's jars, with upstream's heap default and log settings.
log4j=${KAFKA_LOG4J_CONFIG:-/opt/kafka/config/tools-log4j2.properties}
# shellcheck disable=SC2086 # the *_OPTS variables are lists of flags, split on purpose
exec java ${KAFKA_HEAP_OPTS:-} ${KAFKA_OPTS:-} -Dlog4j2.configurationFile="$log4j" \
    -cp '/opt/kafka/libs/*' "$@"
