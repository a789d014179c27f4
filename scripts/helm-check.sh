#!/usr/bin/env bash
# The Helm chart (deploy/helm/shortener), checked without a cluster: `helm lint --strict`,
# `helm template` with the values a user sets, every rendered manifest validated against the
# Kubernetes API's own schemas (kubernetes-validate, from PyPI), the chart's promises checked
# on what it renders (deploy/helm/checks/rendered.py), and its refusals of missing values.
# helm comes from the Go module proxy, kubernetes-validate from PyPI, each built or installed
# once under ~/.cache/shortener.
#
#   scripts/helm-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
helm_version=v3.22.0
validate_version=1.37.0
kubernetes=1.33.0
cache=$HOME/.cache/shortener
helm=$cache/helm-$helm_version/helm
venv=$cache/kubernetes-validate-$validate_version

if [ ! -x "$helm" ]; then
    echo "helm-check.sh: building helm $helm_version from the Go module proxy" >&2
    GOBIN=$(dirname "$helm") GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$helm_version"
fi
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    echo "helm-check.sh: installing kubernetes-validate $validate_version from PyPI" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "kubernetes-validate==$validate_version"
fi
"$helm" version --short
# The chart links the shipped YAML from bootstrap/etc (one copy); helm says so at every load.
helm() { "$helm" "$@" 2> >(grep -v 'found symbolic link in path' >&2); }

chart=deploy/helm/shortener
work=$(mktemp -d /tmp/helm-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
required=(--set database.url=postgres://shortener:secret@postgres.example:5432/shortener
    --set "kafka.brokers=kafka-0.example:9092\\,kafka-1.example:9092")

echo "--- helm lint --strict"
helm lint --strict --kube-version "$kubernetes" "$chart" "${required[@]}"

# Each set of values a user is likely to choose, rendered and validated.
render() {
    local name=$1
    shift
    helm template shortener "$chart" --namespace links --kube-version "$kubernetes" \
        "${required[@]}" "$@" >"$work/$name.yaml"
    echo "--- $name: $(grep -c '^kind:' "$work/$name.yaml") objects"
    local said
    said=$("$venv/bin/kubernetes-validate" --strict --quiet --kubernetes-version "$kubernetes" \
        "$work/$name.yaml") || { echo "$said" >&2; exit 1; }
    # ServiceMonitor is the Prometheus Operator's kind, which no Kubernetes schema has; any
    # other warning (a kind misspelt, an unknown version) fails.
    said=$(echo "$said" | grep -v "find schema for kind ServiceMonitor with api version monitoring.coreos.com/v1" || true)
    [ -z "$said" ] || { echo "$said" >&2; exit 1; }
    echo "valid against Kubernetes $kubernetes's schemas"
    "$venv/bin/python" deploy/helm/checks/rendered.py "$work/$name.yaml"
}
render defaults
render everything \
    --set ingress.enabled=true --set ingress.className=nginx \
    --set serviceMonitor.enabled=true --set urlApi.engine=axum \
    --set "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name=monitoring"
render fixed-replicas --set urlApi.autoscaling.enabled=false --set networkPolicy.enabled=false
render own-secret --set existingSecret=shortener-secrets

echo "--- what the chart refuses"
refuses() {
    local expected=$1
    shift
    if "$helm" template shortener "$chart" --kube-version "$kubernetes" "$@" >/dev/null 2>"$work/error"; then
        echo "rendered without $expected" >&2
        exit 1
    fi
    grep -q "$expected" "$work/error" || { cat "$work/error" >&2; exit 1; }
    echo "refused: $expected"
}
refuses database.url --set kafka.brokers=kafka:9092
refuses kafka.brokers --set database.url=postgres://u:p@h/d
echo "helm-check.sh: the chart lints, renders, validates and keeps its promises"
