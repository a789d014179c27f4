use std::net::SocketAddr;

use serde::Deserialize;

use super::sections::{
    DatabaseConfig, DatabaseFile, DevFile, GuardsConfig, GuardsFile, otlp_endpoint,
};
use super::{ConfigError, Env, Setting, log_filter, parse_file, read_file};

const BUILT_IN: &str = include_str!("../../etc/analytics-rpc.yaml");

/// Everything analytics-rpc needs, validated.
#[derive(Debug, Clone)]
pub struct AnalyticsRpcConfig {
    pub grpc_addr: SocketAddr,
    pub guards: GuardsConfig,
    pub database: DatabaseConfig,
    /// Where `/metrics` and `/healthz` are served.
    pub dev_addr: SocketAddr,
    /// Where traces are exported (OTLP/gRPC); `None`: not exported.
    pub otlp_endpoint: Option<String>,
    pub log_filter: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    grpc: GrpcFile,
    database: DatabaseFile,
    dev: DevFile,
    log: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrpcFile {
    addr: String,
    timeout_ms: u64,
    cpu_threshold: u64,
    shedding: bool,
}

impl AnalyticsRpcConfig {
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
        Ok(Self {
            grpc_addr: Setting::new(env, "GRPC_ADDR", "grpc.addr", file.grpc.addr).socket_addr()?,
            guards: GuardsFile {
                timeout_ms: file.grpc.timeout_ms,
                cpu_threshold: file.grpc.cpu_threshold,
                shedding: file.grpc.shedding,
            }
            .load("grpc")?,
            database: file.database.load(env)?,
            dev_addr: file.dev.load(env)?,
            otlp_endpoint: otlp_endpoint(env)?,
            log_filter: log_filter(env, file.log)?,
        })
    }
}
