#!/usr/bin/env bash
# Fetches the GeoIP country database (MaxMind mmdb format) from the npm registry and prints its
# path. The database is data, not code: it is cached outside the repository and never committed.
#
#   scripts/fetch-geoip.sh [DIR]    DIR defaults to ${GEOIP_CACHE:-$HOME/.cache/shortener/geoip}
#
# Source: @ip-location-db/geo-whois-asn-country-mmdb (data CC BY 4.0 by the NRO; see the
# package's README and NRO_LICENSE, kept beside the database). npm is Debian's, installed when
# missing.
set -euo pipefail
# shellcheck source=scripts/lib/need.sh
. "$(dirname "$0")/lib/need.sh"

package="@ip-location-db/geo-whois-asn-country-mmdb"
version="2.3.2026061719"
dir=$(realpath -m "${1:-${GEOIP_CACHE:-$HOME/.cache/shortener/geoip}}")
db="$dir/$version/geo-whois-asn-country.mmdb"

if [ ! -s "$db" ]; then
    need npm npm
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
    mkdir -p "$dir/$version"
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    cp "$tmp/package/geo-whois-asn-country.mmdb" "$tmp/package/NRO_LICENSE" "$tmp/package/README.md" "$dir/$version/"
fi
echo "$db"
