#!/usr/bin/env bash
# Debian's nginx as a reverse proxy in front of url-api, with nginx's default proxy settings
# (HTTP/1.0 to the upstream, `Connection: close`, `Host` set to the upstream's address), for
# the integration tests that prove url-api serves behind it.
#
#   scripts/nginx.sh start DIR PORT UPSTREAM [forwarding]
#       install if needed, start, print the proxy's host:port; `forwarding` adds the line most
#       guides give, `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`
#   scripts/nginx.sh stop  DIR
set -euo pipefail

cmd=${1:-}
dir=$(realpath -m "${2:-/var/tmp/shortener-nginx-$(id -un)}")

install_nginx() {
    if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then return; fi
    echo "nginx.sh: installing Debian's nginx" >&2
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
}

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

case "$cmd" in
start)
    port=${3:?port}
    upstream=${4:?upstream host:port}
    headers=""
    case "${5:-}" in
    "") ;;
    forwarding) headers='proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;' ;;
    *) echo "nginx.sh: unknown mode '$5'" >&2; exit 2 ;;
    esac
    install_nginx
    mkdir -p "$dir"
    # Workers run as this user (root runs them as root: the temp paths are this user's).
    user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
    cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        # nginx's defaults, deliberately: no proxy_http_version, no other header rewriting.
        location / { proxy_pass http://$upstream; $headers }
    }
}
CONF
    "$(nginx_bin)" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    for _ in $(seq 1 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    echo "127.0.0.1:$port"
    ;;
stop)
    if [ -f "$dir/nginx.pid" ]; then
        "$(nginx_bin)" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -s stop 2>/dev/null || true
    fi
    ;;
*)
    echo "usage: $0 start DIR PORT UPSTREAM [forwarding] | stop DIR" >&2
    exit 2
    ;;
esac
