use std::net::SocketAddr;

use serde::Deserialize;

use super::sections::{
    CommonConfig, CommonFile, DatabaseConfig, DatabaseFile, GuardsConfig, GuardsFile,
};
use super::{ConfigError, Env, Setting, parse_file, read_file, rpc_token};

const BUILT_IN: &str = include_str!("../../etc/analytics-rpc.yaml");

/// Everything analytics-rpc needs, validated.
#[derive(Debug, Clone)]
pub struct AnalyticsRpcConfig {
    pub grpc_addr: SocketAddr,
    pub guards: GuardsConfig,
    pub database: DatabaseConfig,
    /// What Analytics callers must present (`ANALYTICS_RPC_TOKEN`); `None`: nothing.
    pub token: Option<adapter_grpc::RpcToken>,
    /// Dev server, logs and traces.
    pub common: CommonConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    grpc: GrpcFile,
    guards: GuardsFile,
    database: DatabaseFile,
    common: CommonFile,
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
            guards: file.guards.load()?,
            database: file.database.load(env)?,
            token: rpc_token(env)?,
            common: file.common.load(env)?,
        })
    }
}
