//! url-api: shortens, redirects, lists, shows and deletes links over HTTP.

use std::process::ExitCode;

use bootstrap::config::UrlApiConfig;
use bootstrap::main_support::{load_config, observe, on_engine_runtime, started};
use bootstrap::shutdown;
use bootstrap::url_api::UrlApi;

fn main() -> ExitCode {
    // Loaded first: the HTTP engine it names decides the runtime.
    let config = match load_config("url-api", UrlApiConfig::load) {
        Ok(config) => config,
        Err(code) => return code,
    };
    on_engine_runtime(config.api.engine, "url-api", serve(config))
}

async fn serve(config: UrlApiConfig) -> ExitCode {
    let _telemetry = match observe("url-api", &config.common) {
        Ok(telemetry) => telemetry,
        Err(code) => return code,
    };
    let api = match started("url-api", UrlApi::build(config).await) {
        Ok(api) => api,
        Err(code) => return code,
    };
    api.run_until(shutdown::terminated()).await;
    ExitCode::SUCCESS
}
