#!/usr/bin/env bash
# A Docker engine on a Debian machine without one (CI's machines start with only a client):
#
#   scripts/docker.sh start   install Debian's docker.io and docker-compose if missing, start
#                             dockerd (as root) unless a daemon already answers
#   scripts/docker.sh stop    stop the daemon, if this script started it
#
# Images and build cache stay in /var/lib/docker, so later runs on the same machine reuse them.
set -euo pipefail

state=/var/tmp/shortener-dockerd
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo

case "${1:-}" in
start)
    if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
        echo "docker.sh: installing Debian's docker.io and docker-compose" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker.io docker-compose >/dev/null
    fi
    if $sudo docker info >/dev/null 2>&1; then exit 0; fi
    $sudo mkdir -p "$state"
    $sudo sh -c "nohup dockerd >'$state/dockerd.log' 2>&1 & echo \$! >'$state/pid'"
    for _ in $(seq 1 120); do
        if $sudo docker info >/dev/null 2>&1; then exit 0; fi
        sleep 0.5
    done
    echo "docker.sh: dockerd did not start; see $state/dockerd.log" >&2
    tail -n 20 "$state/dockerd.log" >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$state/pid" ]; then
        pid=$(cat "$state/pid")
        $sudo kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do $sudo kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        $sudo rm -f "$state/pid"
    fi
    ;;
*)
    echo "usage: $0 start | stop" >&2
    exit 2
    ;;
esac
