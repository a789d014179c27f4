"""The chart's promises, checked on what `helm template` rendered (any set of values).

    python3 deploy/helm/checks/rendered.py RENDERED.yaml

Exits 1, naming each broken promise: every pod runs as non-root on a read-only root
filesystem with no privileges and bounded memory; every service is probed on /healthz; the
database URL and the token come only from the Secret; the migrations run as a hook before
install and upgrade, after the Secret they read; every Service and disruption budget selects
pods that exist; the autoscaler alone sizes url-api; only url-api reaches analytics-rpc's
gRPC port; each ConfigMap holds the YAML the images ship (bootstrap/etc) unless replaced;
url-api counts the Ingress as the proxy in front (with `urlApi.trustedProxies: auto`).
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
broken = []


def check(condition, promise):
    if not condition:
        broken.append(promise)


def pod_of(obj):
    return obj["spec"]["template"]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def main(path):
    objects = [o for o in yaml.safe_load_all(Path(path).read_text()) if o]
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    deployments = by_kind.get("Deployment", [])
    jobs = by_kind.get("Job", [])
    check(
        sorted(d["metadata"]["labels"]["app.kubernetes.io/component"] for d in deployments)
        == ["analytics-consumer", "analytics-rpc", "url-api"],
        "a Deployment for each of the three services",
    )

    for obj in deployments + jobs:
        name = f'{obj["kind"]} {obj["metadata"]["name"]}'
        pod = pod_of(obj)["spec"]
        check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
        check(pod.get("automountServiceAccountToken") is False, f"{name}: no API token mounted")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            check(sc.get("readOnlyRootFilesystem") is True, f"{name}: read-only root filesystem")
            check(sc.get("allowPrivilegeEscalation") is False, f"{name}: no privilege escalation")
            check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: every capability dropped")
            resources = c.get("resources", {})
            check("memory" in resources.get("limits", {}), f"{name}: a memory limit")
            check({"cpu", "memory"} <= set(resources.get("requests", {})), f"{name}: requests")
            for env in c.get("env", []):
                if env["name"] in ("DATABASE_URL", "ANALYTICS_RPC_TOKEN"):
                    check("secretKeyRef" in env.get("valueFrom", {}), f'{name}: {env["name"]} from the Secret')
            if obj["kind"] == "Deployment":
                for probe in ("readinessProbe", "livenessProbe"):
                    get = c.get(probe, {}).get("httpGet", {})
                    check(get.get("path") == "/healthz" and get.get("port") == "dev", f"{name}: {probe} on /healthz")

    for job in jobs:
        hooks = job["metadata"].get("annotations", {})
        check(hooks.get("helm.sh/hook") == "pre-install,pre-upgrade", "migrate runs before install and upgrade")
        args = pod_of(job)["spec"]["containers"][0].get("args")
        check(args == ["up"], "migrate runs `migrate up`")
    for secret in by_kind.get("Secret", []):
        hooks = secret["metadata"].get("annotations", {})
        weight = int(hooks.get("helm.sh/hook-weight", "0"))
        job_weight = min(int(j["metadata"]["annotations"].get("helm.sh/hook-weight", "0")) for j in jobs)
        check("pre-install" in hooks.get("helm.sh/hook", "") and weight < job_weight,
              "the Secret exists before the migrate hook reads it")
        check({"DATABASE_URL", "ANALYTICS_RPC_TOKEN"} <= set(secret.get("data", {})), "the Secret holds both values")

    pod_labels = [pod_of(d)["metadata"]["labels"] for d in deployments]
    for kind in ("Service", "PodDisruptionBudget"):
        for obj in by_kind.get(kind, []):
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            check(any(selects(selector, labels) for labels in pod_labels),
                  f'{kind} {obj["metadata"]["name"]} selects pods that exist')
    check(len(by_kind.get("PodDisruptionBudget", [])) == 3, "a disruption budget for each service")

    url_api = [d for d in deployments if d["metadata"]["labels"]["app.kubernetes.io/component"] == "url-api"]
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        check([d["metadata"]["name"] for d in url_api] == [target], "the autoscaler sizes url-api")
        check("replicas" not in url_api[0]["spec"], "url-api's replicas are the autoscaler's alone")

    ingress = bool(by_kind.get("Ingress"))
    for d in url_api:
        env = {e["name"]: e.get("value") for e in pod_of(d)["spec"]["containers"][0].get("env", [])}
        check(env.get("HTTP_TRUSTED_PROXIES") == ("1" if ingress else "0"),
              "url-api takes the visitor from X-Forwarded-For exactly when the Ingress fronts it")

    for policy in by_kind.get("NetworkPolicy", []):
        target = policy["spec"]["podSelector"]["matchLabels"]
        check(target.get("app.kubernetes.io/component") == "analytics-rpc", "the policy guards analytics-rpc")
        for rule in policy["spec"]["ingress"]:
            ports = [p["port"] for p in rule.get("ports", [])]
            if "grpc" in ports:
                sources = rule.get("from", [])
                check(
                    len(sources) == 1
                    and sources[0].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
                    == "url-api",
                    "only url-api reaches analytics-rpc's gRPC port",
                )

    for config_map in by_kind.get("ConfigMap", []):
        for key, text in config_map["data"].items():
            shipped = (ROOT / "bootstrap" / "etc" / key).read_text()
            check(text.strip() == shipped.strip(), f"ConfigMap {key}: the shipped YAML")

    if broken:
        for promise in broken:
            print(f"broken: {promise}", file=sys.stderr)
        sys.exit(1)
    print(f"{path}: {len(objects)} objects keep the chart's promises")


if __name__ == "__main__":
    main(sys.argv[1])
