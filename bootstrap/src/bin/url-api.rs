//! url-api: shortens, redirects, lists, shows and deletes links over HTTP.

use std::process::ExitCode;

use bootstrap::config::UrlApiConfig;
use bootstrap::main_support::{configure, started};
use bootstrap::shutdown;
use bootstrap::url_api::UrlApi;

fn main() -> ExitCode {
    // HTTP is served on async-std; sqlx, the dev server and the OTLP exporter run on tokio, and
    // async-std's executor adopts the tokio runtime that is current when it starts. One tokio
    // worker is enough for them and leaves the cores to the HTTP workers (with two, cold
    // redirects measured about 5% slower and used 5-10% more CPU each, on two cores).
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("url-api: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _tokio = tokio.enter();
    async_std::task::block_on(serve())
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
