//! analytics-rpc: answers click counts and stats over gRPC.

use std::process::ExitCode;

use bootstrap::analytics_rpc::AnalyticsRpc;
use bootstrap::config::AnalyticsRpcConfig;
use bootstrap::main_support::{configure, started};
use bootstrap::shutdown;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, _telemetry) =
        match configure("analytics-rpc", AnalyticsRpcConfig::load, |c| &c.common) {
            Ok(config) => config,
            Err(code) => return code,
        };
    let rpc = match started("analytics-rpc", AnalyticsRpc::build(config).await) {
        Ok(rpc) => rpc,
        Err(code) => return code,
    };
    match started("analytics-rpc", rpc.run_until(shutdown::terminated()).await) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
