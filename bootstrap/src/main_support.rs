//! What every binary's `main` does the same way: report a bad configuration or a failed start as
//! one line on stderr, with a distinct exit code.

use std::future::Future;
use std::process::ExitCode;

use adapter_http::Engine;

use crate::StartError;
use crate::config::{CommonConfig, ConfigError, ProcessEnv};
use crate::logging::{self, Telemetry};

/// Exit code for a configuration error (the process never started).
pub const BAD_CONFIG: u8 = 2;

/// Loads the configuration from the command line and the environment, and sets up logs and
/// traces from its common section. Call it on the process's runtime: the trace exporter
/// starts on it.
///
/// # Errors
/// The exit code to return, once the error line is printed.
pub fn configure<C>(
    binary: &'static str,
    load: impl FnOnce(Vec<String>, &ProcessEnv) -> Result<C, ConfigError>,
    common: impl FnOnce(&C) -> &CommonConfig,
) -> Result<(C, Telemetry), ExitCode> {
    let config = load_config(binary, load)?;
    let telemetry = observe(binary, common(&config))?;
    Ok((config, telemetry))
}

/// Loads the configuration from the command line and the environment.
///
/// # Errors
/// The exit code to return, once the error line is printed.
pub fn load_config<C>(
    binary: &'static str,
    load: impl FnOnce(Vec<String>, &ProcessEnv) -> Result<C, ConfigError>,
) -> Result<C, ExitCode> {
    let args = std::env::args().skip(1).collect();
    load(args, &ProcessEnv).map_err(|e| {
        eprintln!("{binary}: {e}");
        ExitCode::from(BAD_CONFIG)
    })
}

/// Sets up logs and traces from the configuration's common section, on the process's runtime.
///
/// # Errors
/// The exit code to return, once the error line is printed.
pub fn observe(binary: &'static str, common: &CommonConfig) -> Result<Telemetry, ExitCode> {
    logging::init(binary, &common.log_filter, common.otlp_endpoint.as_deref()).map_err(|e| {
        eprintln!("{binary}: invalid configuration: {e}");
        ExitCode::from(BAD_CONFIG)
    })
}

/// The service, or the exit code for a start that failed (printed as one line).
///
/// # Errors
/// `ExitCode::FAILURE` once the error line is printed.
pub fn started<S>(binary: &str, built: Result<S, StartError>) -> Result<S, ExitCode> {
    built.map_err(|e| {
        eprintln!("{binary}: {e}");
        ExitCode::FAILURE
    })
}

/// Runs `main` on the runtime of the HTTP engine: async-std for tide, tokio for axum.
pub fn on_engine_runtime(
    engine: Engine,
    binary: &str,
    main: impl Future<Output = ExitCode>,
) -> ExitCode {
    match engine {
        Engine::Tide => on_async_std(binary, main),
        Engine::Axum => on_tokio(binary, main),
    }
}

/// Runs `main` on tokio's multi-threaded runtime, a worker a core: axum, sqlx, the dev server
/// and the exporter all run on it.
fn on_tokio(binary: &str, main: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(main),
        Err(e) => {
            eprintln!("{binary}: cannot start the tokio runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `main` on async-std, beside one tokio worker: HTTP is served on async-std; sqlx, the
/// dev server and the OTLP exporter run on tokio, and async-std's executor adopts the tokio
/// runtime that is current when it starts. One tokio worker is enough for them and leaves the
/// cores to the HTTP workers (with two, cold redirects measured about 5% slower and used 5-10%
/// more CPU each, on two cores).
pub fn on_async_std(binary: &str, main: impl Future<Output = ExitCode>) -> ExitCode {
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{binary}: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _tokio = tokio.enter();
    async_std::task::block_on(main)
}
