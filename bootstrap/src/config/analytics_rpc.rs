use std::net::SocketAddr;

use adapter_postgres::PgConfig;
use serde::Deserialize;

use super::sections::DatabaseFile;
use super::{ConfigError, Env, Setting, log_filter, read_file};

const BUILT_IN: &str = include_str!("../../etc/analytics-rpc.yaml");

/// Everything analytics-rpc needs, validated.
#[derive(Debug, Clone)]
pub struct AnalyticsRpcConfig {
    pub grpc_addr: SocketAddr,
    pub database: PgConfig,
    pub log_filter: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    grpc: GrpcFile,
    database: DatabaseFile,
    log: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrpcFile {
    addr: String,
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
        let file: File = read_file(args, BUILT_IN)?;
        Ok(Self {
            grpc_addr: Setting::new(env, "GRPC_ADDR", "grpc.addr", file.grpc.addr).socket_addr()?,
            database: file.database.load(env)?,
            log_filter: log_filter(env, file.log)?,
        })
    }
}
