//! shortener: the whole URL shortener in one process, on one SQLite file (see
//! [`bootstrap::shortener`]). `shortener admin keys create|list|revoke` manages its API keys.

use std::process::ExitCode;

use adapter_sqlite::SqliteKeyStore;
use application::ports::{RandomKeys, SystemClock};
use bootstrap::admin::{Command, USAGE};
use bootstrap::config::{ProcessEnv, ShortenerConfig};
use bootstrap::main_support::{
    BAD_CONFIG, load_config, observe, on_async_std, on_engine_runtime, started,
};
use bootstrap::shortener::{Shortener, open_data};
use bootstrap::shutdown;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((first, rest)) if first == "admin" => on_async_std("shortener", admin(rest)),
        _ => {
            // Loaded first: the HTTP engine it names decides the runtime.
            let config = match load_config("shortener", ShortenerConfig::load) {
                Ok(config) => config,
                Err(code) => return code,
            };
            on_engine_runtime(config.api.engine, "shortener", serve(config))
        }
    }
}

async fn serve(config: ShortenerConfig) -> ExitCode {
    let _telemetry = match observe("shortener", &config.common) {
        Ok(telemetry) => telemetry,
        Err(code) => return code,
    };
    let shortener = match started("shortener", Shortener::build(config).await) {
        Ok(shortener) => shortener,
        Err(code) => return code,
    };
    shortener.run_until(shutdown::terminated()).await;
    ExitCode::SUCCESS
}

/// The `admin` binary's commands, on the data file in `DATA_DIR`.
async fn admin(args: &[String]) -> ExitCode {
    let command = match Command::parse(args) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!(
                "shortener admin: {problem}\n{}",
                USAGE.replace("admin ", "shortener admin ")
            );
            return ExitCode::from(BAD_CONFIG);
        }
    };
    let storage = match ShortenerConfig::storage_only(&ProcessEnv) {
        Ok(storage) => storage,
        Err(e) => {
            eprintln!("shortener admin: {e}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    let db = match open_data(&storage).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("shortener admin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keys = SqliteKeyStore::new(db.clone());
    let done = bootstrap::admin::run(
        command,
        &keys,
        &RandomKeys,
        &SystemClock,
        &mut std::io::stdout(),
    )
    .await;
    db.close().await;
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shortener admin: {e}");
            ExitCode::FAILURE
        }
    }
}
