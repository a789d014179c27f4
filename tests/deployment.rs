//! The deployment files agree with the code and with each other: what is pinned in two places
//! is pinned alike, Prometheus scrapes the ports the services listen on, and compose starts
//! nothing before what it needs is healthy.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

use integration_tests::kafka::KAFKA_TAG;
use integration_tests::postgres::POSTGRES_TAG;
use serde_yaml_ng::Value;

const COMPOSE: &str = include_str!("../compose.yml");
const DOCKERFILE: &str = include_str!("../docker/Dockerfile");
const FETCH_GEOIP: &str = include_str!("../scripts/fetch-geoip.sh");
const PROMETHEUS: &str = include_str!("../docker/prometheus/prometheus.yml");
const DASHBOARD: &str = include_str!("../docker/grafana/dashboards/shortener.json");
const DATASOURCE: &str = include_str!("../docker/grafana/provisioning/datasources/prometheus.yml");

fn compose() -> Value {
    serde_yaml_ng::from_str(COMPOSE).expect("compose.yml is YAML")
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    &compose["services"][name]
}

#[test]
fn compose_runs_the_servers_the_tests_run() {
    let compose = compose();
    assert_eq!(
        service(&compose, "kafka")["image"].as_str(),
        Some(format!("apache/kafka:{KAFKA_TAG}").as_str())
    );
    assert_eq!(
        service(&compose, "postgres")["image"].as_str(),
        Some(format!("postgres:{POSTGRES_TAG}").as_str())
    );
}

#[test]
fn the_image_and_the_script_fetch_the_same_geoip_database() {
    let version = FETCH_GEOIP
        .lines()
        .find_map(|line| line.strip_prefix("version=\""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("fetch-geoip.sh pins a version");
    assert!(
        DOCKERFILE.contains(&format!("ARG GEOIP_VERSION={version}")),
        "docker/Dockerfile does not fetch GeoIP {version}"
    );
}

#[test]
fn prometheus_scrapes_each_service_on_its_dev_port() {
    for (service, config) in [
        ("url-api", include_str!("../bootstrap/etc/url-api.yaml")),
        (
            "analytics-rpc",
            include_str!("../bootstrap/etc/analytics-rpc.yaml"),
        ),
        (
            "analytics-consumer",
            include_str!("../bootstrap/etc/analytics-consumer.yaml"),
        ),
    ] {
        let config: Value = serde_yaml_ng::from_str(config).unwrap();
        let addr = config["common"]["dev_addr"].as_str().unwrap();
        let port = addr.rsplit(':').next().unwrap();
        let target = format!("\"{service}:{port}\"");
        assert!(
            PROMETHEUS.contains(&target),
            "prometheus.yml does not scrape {target}"
        );
        assert!(
            DOCKERFILE.contains(&format!("DEV_ADDR=0.0.0.0:{port}")),
            "the {service} image does not serve its dev port {port}"
        );
    }
}

#[test]
fn every_service_is_health_checked_and_waits_for_what_it_needs() {
    let compose = compose();
    for name in ["url-api", "analytics-rpc", "analytics-consumer"] {
        let service = service(&compose, name);
        assert_eq!(
            service["healthcheck"]["test"][1].as_str(),
            Some("healthcheck"),
            "{name} has no /healthz check"
        );
        assert_eq!(
            service["depends_on"]["migrate"]["condition"].as_str(),
            Some("service_completed_successfully"),
            "{name} may start before the schema is migrated"
        );
    }
    let Value::Mapping(services) = &compose["services"] else {
        panic!("compose.yml has services")
    };
    for (name, dependent) in services {
        let Value::Mapping(needs) = &dependent["depends_on"] else {
            continue;
        };
        for (needed, how) in needs {
            let condition = how["condition"].as_str();
            assert!(
                matches!(
                    condition,
                    Some("service_healthy" | "service_completed_successfully")
                ),
                "{name:?} waits for {needed:?} only to start ({condition:?})"
            );
            let needed = needed.as_str().expect("service names are strings");
            if condition == Some("service_healthy") {
                assert!(
                    !service(&compose, needed)["healthcheck"].is_null(),
                    "{name:?} waits for {needed} to be healthy, which has no health check"
                );
            }
        }
    }
}

#[test]
fn the_dashboard_queries_the_provisioned_prometheus() {
    let datasource: Value = serde_yaml_ng::from_str(DATASOURCE).unwrap();
    let uid = datasource["datasources"][0]["uid"].as_str().unwrap();
    let dashboard: serde_json::Value =
        serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6);
    for panel in panels {
        let title = panel["title"].as_str().unwrap();
        assert_eq!(panel["datasource"]["uid"], uid, "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            assert!(
                !target["expr"].as_str().unwrap().is_empty(),
                "{title} has an empty query"
            );
        }
    }
}
