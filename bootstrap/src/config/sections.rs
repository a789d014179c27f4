//! Parts of the configuration that several binaries share, each validated the same way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use adapter_postgres::PgConfig;
use serde::Deserialize;

use super::{ConfigError, Env, Setting, millis, positive};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatabaseFile {
    url: String,
    max_connections: u32,
    acquire_timeout_ms: u64,
    query_timeout_ms: u64,
}

/// The pool, and how long one call to the database may take before it is abandoned (and
/// counted against the database's breaker).
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub pool: PgConfig,
    pub query_timeout: Duration,
}

impl DatabaseFile {
    pub(super) fn load(self, env: &impl Env) -> Result<DatabaseConfig, ConfigError> {
        let pool = PgConfig {
            url: Setting::new(env, "DATABASE_URL", "database.url", self.url).postgres_url()?,
            max_connections: u32::try_from(positive(
                "database.max_connections",
                self.max_connections.into(),
            )?)
            .unwrap_or(u32::MAX),
            acquire_timeout: millis("database.acquire_timeout_ms", self.acquire_timeout_ms)?,
        };
        Ok(DatabaseConfig {
            pool,
            query_timeout: millis("database.query_timeout_ms", self.query_timeout_ms)?,
        })
    }
}

/// The `guards` section of a server's file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GuardsFile {
    timeout_ms: u64,
    cpu_threshold: u64,
    shedding: bool,
}

/// A server's inbound guards (go-zero's defaults in the shipped files).
#[derive(Debug, Clone, Copy)]
pub struct GuardsConfig {
    /// A request (or call) taking longer is abandoned.
    pub timeout: Duration,
    /// Per mille of the CPU limit above which load is shed.
    pub cpu_threshold: u64,
    /// Off in development, where a busy laptop shouldn't refuse requests.
    pub shedding: bool,
}

impl GuardsFile {
    pub(super) fn load(self) -> Result<GuardsConfig, ConfigError> {
        if !(1..=999).contains(&self.cpu_threshold) {
            return Err(ConfigError::new(
                "guards.cpu_threshold",
                "must be between 1 and 999 (per mille of the CPU limit)",
            ));
        }
        Ok(GuardsConfig {
            timeout: millis("guards.timeout_ms", self.timeout_ms)?,
            cpu_threshold: self.cpu_threshold,
            shedding: self.shedding,
        })
    }
}

/// Where click events travel.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub brokers: String,
    pub topic: String,
}

impl KafkaConfig {
    /// `kafka.brokers` (or `KAFKA_BROKERS`) and `kafka.topic`, as each binary's file has them.
    pub(super) fn load(
        env: &impl Env,
        brokers: String,
        topic: String,
    ) -> Result<Self, ConfigError> {
        let brokers = Setting::new(env, "KAFKA_BROKERS", "kafka.brokers", brokers);
        let valid = brokers.value.split(',').all(|broker| {
            broker
                .trim()
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        });
        if !valid {
            return Err(brokers.error(format!(
                "'{}' is not a list of host:port like localhost:9092",
                brokers.value
            )));
        }
        if topic.is_empty() {
            return Err(ConfigError::new("kafka.topic", "must not be empty"));
        }
        Ok(Self {
            brokers: brokers.value,
            topic,
        })
    }
}

/// The `common` section every binary's file has, loaded the same way for all three.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CommonFile {
    dev_addr: String,
    log: String,
}

/// What every binary needs alike: where its dev server listens, what it logs, and where its
/// traces go.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// Where `/metrics` and `/healthz` are served (`DEV_ADDR`).
    pub dev_addr: std::net::SocketAddr,
    /// `RUST_LOG`'s syntax.
    pub log_filter: String,
    /// Where traces are exported (OTLP/gRPC, `OTEL_EXPORTER_OTLP_ENDPOINT`); `None`: not
    /// exported.
    pub otlp_endpoint: Option<String>,
}

impl CommonFile {
    pub(super) fn load(self, env: &impl Env) -> Result<CommonConfig, ConfigError> {
        Ok(CommonConfig {
            dev_addr: Setting::new(env, "DEV_ADDR", "common.dev_addr", self.dev_addr)
                .socket_addr()?,
            log_filter: log_filter(env, self.log)?,
            otlp_endpoint: otlp_endpoint(env)?,
        })
    }
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT`: where to export traces; unset, none are exported.
fn otlp_endpoint(env: &impl Env) -> Result<Option<String>, ConfigError> {
    match env.var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => Setting::new(env, "OTEL_EXPORTER_OTLP_ENDPOINT", "", value)
            .http_url()
            .map(|url| Some(url.to_string())),
    }
}

/// `common.log` (or `RUST_LOG`), checked as a filter.
fn log_filter(env: &impl Env, file_value: String) -> Result<String, ConfigError> {
    let setting = Setting::new(env, "RUST_LOG", "common.log", file_value);
    tracing_subscriber::EnvFilter::try_new(&setting.value)
        .map_err(|e| setting.error(format!("'{}' is not a log filter ({e})", setting.value)))?;
    Ok(setting.value)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GeoIpFile {
    database: String,
}

impl GeoIpFile {
    /// The country database's path (`GEOIP_DATABASE`); `None` when none is configured.
    pub(super) fn load(self, env: &impl Env) -> Result<Option<PathBuf>, ConfigError> {
        let geoip = Setting::new(env, "GEOIP_DATABASE", "geoip.database", self.database);
        if geoip.value.is_empty() {
            Ok(None)
        } else if Path::new(&geoip.value).is_file() {
            Ok(Some(PathBuf::from(&geoip.value)))
        } else {
            Err(geoip.error(format!("no file at '{}'", geoip.value)))
        }
    }
}
