//! url-api: shortens, redirects, lists, shows and deletes links over HTTP.

use std::process::ExitCode;

use bootstrap::config::UrlApiConfig;
use bootstrap::main_support::{configure, on_async_std, started};
use bootstrap::shutdown;
use bootstrap::url_api::UrlApi;

fn main() -> ExitCode {
    on_async_std("url-api", serve())
}

async fn serve() -> ExitCode {
    let (config, _telemetry) = match configure("url-api", UrlApiConfig::load, |c| &c.common) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let api = match started("url-api", UrlApi::build(config).await) {
        Ok(api) => api,
        Err(code) => return code,
    };
    api.run_until(shutdown::terminated()).await;
    ExitCode::SUCCESS
}
