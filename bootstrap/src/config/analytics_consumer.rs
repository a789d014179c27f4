use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::sections::{
    CommonConfig, CommonFile, DatabaseConfig, DatabaseFile, GeoIpFile, KafkaConfig,
};
use super::{ConfigError, Env, millis, parse_file, positive, read_file};

const BUILT_IN: &str = include_str!("../../etc/analytics-consumer.yaml");

/// Everything analytics-consumer needs, validated.
#[derive(Debug, Clone)]
pub struct AnalyticsConsumerConfig {
    pub kafka: KafkaConfig,
    pub group_id: String,
    pub batch_size: usize,
    pub batch_wait: Duration,
    pub session_timeout: Duration,
    /// Where messages that can't be counted go.
    pub dead_letter_topic: String,
    /// Committing nothing for this long while messages wait makes the consumer not ready.
    pub stall_timeout: Duration,
    pub database: DatabaseConfig,
    /// An mmdb country database; `None` counts every click's country as XX.
    pub geoip_database: Option<PathBuf>,
    /// Dev server, logs and traces.
    pub common: CommonConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kafka: KafkaFile,
    database: DatabaseFile,
    geoip: GeoIpFile,
    common: CommonFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KafkaFile {
    brokers: String,
    topic: String,
    group_id: String,
    batch_size: u64,
    batch_wait_ms: u64,
    session_timeout_ms: u64,
    dead_letter_topic: String,
    stall_timeout_ms: u64,
}

impl AnalyticsConsumerConfig {
    /// Reads `--config` (or the built-in defaults) and applies the environment.
    ///
    /// # Errors
    /// The first setting that is missing, malformed or out of range.
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: &impl Env,
    ) -> Result<Self, ConfigError> {
        let (name, text) = read_file(args, BUILT_IN)?;
        Self::parse(&name, &text, env)
    }

    /// The settings in `text` (YAML; `name` says where it came from, for errors), then the
    /// environment.
    ///
    /// # Errors
    /// The first setting that is missing, malformed or out of range.
    pub fn parse(name: &str, text: &str, env: &impl Env) -> Result<Self, ConfigError> {
        let file: File = parse_file(name, text)?;
        if file.kafka.group_id.is_empty() {
            return Err(ConfigError::new("kafka.group_id", "must not be empty"));
        }
        if file.kafka.dead_letter_topic.is_empty() {
            return Err(ConfigError::new(
                "kafka.dead_letter_topic",
                "must not be empty",
            ));
        }
        if file.kafka.dead_letter_topic == file.kafka.topic {
            return Err(ConfigError::new(
                "kafka.dead_letter_topic",
                "must not be the topic the clicks are read from",
            ));
        }
        let geoip_database = file.geoip.load(env)?;
        Ok(Self {
            kafka: KafkaConfig::load(env, file.kafka.brokers, file.kafka.topic)?,
            group_id: file.kafka.group_id,
            batch_size: usize::try_from(positive("kafka.batch_size", file.kafka.batch_size)?)
                .unwrap_or(usize::MAX),
            batch_wait: millis("kafka.batch_wait_ms", file.kafka.batch_wait_ms)?,
            session_timeout: millis("kafka.session_timeout_ms", file.kafka.session_timeout_ms)?,
            dead_letter_topic: file.kafka.dead_letter_topic,
            stall_timeout: millis("kafka.stall_timeout_ms", file.kafka.stall_timeout_ms)?,
            database: file.database.load(env)?,
            geoip_database,
            common: file.common.load(env)?,
        })
    }
}
