#!/usr/bin/env bash
# Builds local stand-ins for the upstream images the stack uses, for machines that cannot reach a
# container registry (see README.md beside this script). Needs root (debootstrap) and a running
# Docker daemon (scripts/docker.sh). Prints, last, the variables that choose the stand-ins where
# their tags differ from the upstream defaults.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${STANDIN_WORK:-/var/tmp/shortener-standins}
mkdir -p "$work"

log() { echo "standins: $*" >&2; }

# A stand-in is rebuilt only when what it is made from changed: its inputs' hash is a label.
recipe_of() { cat "$@" | sha256sum | cut -c1-16; }
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
up_to_date() {
    [ "$(docker image inspect -f '{{ index .Config.Labels "standin.recipe" }}' "$1" 2>/dev/null)" = "$2" ]
}

debian_base() {
    local tag=debian:bookworm-slim recipe rootfs
    recipe=$({ declare -f debian_base; cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; } \
        | sha256sum | cut -c1-16)
    if up_to_date "$tag" "$recipe"; then log "$tag: up to date"; return; fi
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    rootfs="$work/rootfs"
    rm -rf "$rootfs"
    log "$tag: debootstrap (minbase)"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
        || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
    # What Debian's official slim image does: no docs, man pages or locales, now or later; and
    # no daemons started by package scripts during image builds.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    cat >"$rootfs/etc/apt/sources.list" <<'SOURCES'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
    # Machines like these reach the registries through a TLS-intercepting proxy: the CAs the host
    # added are trusted in the images too (ca-certificates picks them up when installed).
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    tar -C "$rootfs" -c . | docker import \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL standin.recipe=$recipe" - "$tag" >/dev/null
    rm -rf "$rootfs"
}

# Builds DIR's Dockerfile as TAG, with CONTEXT (default DIR) as the build context.
build() {
    local tag=$1 dir=$2 context=${3:-$2} recipe
    # shellcheck disable=SC2046 # file lists without spaces, split on purpose
    recipe=$(recipe_of <(image_id debian:bookworm-slim) $(find "$dir" -type f | sort) \
        $(find "$context" -maxdepth 1 -name '*.sum'))
    if up_to_date "$tag" "$recipe"; then log "$tag: up to date"; return; fi
    log "$tag: building"
    docker build -q --label "standin.recipe=$recipe" -f "$dir/Dockerfile" -t "$tag" "$context" >/dev/null
}

rust_builder() {
    local version sysroot context="$work/rust"
    version=$(rustc --version | awk '{print $2}')
    sysroot=$(rustc --print sysroot)
    mkdir -p "$context"
    cp "$here/rust/Dockerfile" "$context/"
    # The host's toolchain is the one these machines have (rustup's servers are not reachable).
    if [ ! -f "$context/toolchain.tar" ] || [ "$(cat "$context/toolchain.sum" 2>/dev/null)" != "$version $sysroot" ]; then
        tar -C "$sysroot" -cf "$context/toolchain.tar" --exclude=./share bin lib libexec etc
        echo "$version $sysroot" >"$context/toolchain.sum"
    fi
    RUST_IMAGE="rust:${version%.*}-slim-bookworm"
    build "$RUST_IMAGE" "$here/rust" "$context"
}

postgres() { build postgres:15 "$here/postgres"; }

kafka() {
    local version libs context="$work/kafka"
    version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$repo/scripts/kafka/pom.xml")
    libs=$("$repo/scripts/kafka.sh" jars)
    rm -rf "$context"
    mkdir -p "$context"
    cp -r "$here/kafka/"* "$context/"
    cp -r "$libs" "$context/libs"
    rm -f "$context/libs/.complete"
    echo "$version" >"$context/libs.sum"
    build "apache/kafka:$version" "$here/kafka" "$context"
}

prometheus() {
    PROMETHEUS_IMAGE=shortener-standin/prometheus:bookworm
    build "$PROMETHEUS_IMAGE" "$here/prometheus"
}

debian_base
rust_builder
postgres
kafka
prometheus
docker images --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' \
    | grep -E '^(debian:bookworm-slim|rust:|postgres:15|apache/kafka:|shortener-standin/)' >&2
echo "RUST_IMAGE=$RUST_IMAGE"
echo "PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE"
