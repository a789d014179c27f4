//! url-api: shortens, redirects, lists, shows and deletes links over HTTP.

use std::process::ExitCode;

use bootstrap::config::{ProcessEnv, UrlApiConfig};
use bootstrap::url_api::UrlApi;
use bootstrap::{logging, shutdown};

#[async_std::main]
async fn main() -> ExitCode {
    let config = match UrlApiConfig::load(std::env::args().skip(1), &ProcessEnv) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("url-api: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.log_filter);
    let api = match UrlApi::build(config).await {
        Ok(api) => api,
        Err(e) => {
            eprintln!("url-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    api.run_until(shutdown::terminated()).await;
    ExitCode::SUCCESS
}
