#!/usr/bin/env bash
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
export KAFKA_LOG4J_CONFIG=/opt/kafka/config/log4j2.properties
exec kafka-run-class.sh kafka.Kafka "$@"
