//! Parts of the configuration that several binaries share, each validated the same way.

use adapter_postgres::PgConfig;
use serde::Deserialize;

use super::{ConfigError, Env, Setting, millis, positive};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatabaseFile {
    url: String,
    max_connections: u32,
    acquire_timeout_ms: u64,
}

impl DatabaseFile {
    pub(super) fn load(self, env: &impl Env) -> Result<PgConfig, ConfigError> {
        Ok(PgConfig {
            url: Setting::new(env, "DATABASE_URL", "database.url", self.url).postgres_url()?,
            max_connections: u32::try_from(positive(
                "database.max_connections",
                self.max_connections.into(),
            )?)
            .unwrap_or(u32::MAX),
            acquire_timeout: millis("database.acquire_timeout_ms", self.acquire_timeout_ms)?,
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
