//! What every binary's `main` does the same way: report a bad configuration or a failed start as
//! one line on stderr, with a distinct exit code.

use std::process::ExitCode;

use crate::config::{ConfigError, ProcessEnv};
use crate::{StartError, logging};

/// Exit code for a configuration error (the process never started).
pub const BAD_CONFIG: u8 = 2;

/// Loads the configuration from the command line and the environment, and sets up logging with
/// its log filter.
///
/// # Errors
/// The exit code to return, once the error line is printed.
pub fn configure<C>(
    binary: &str,
    load: impl FnOnce(Vec<String>, &ProcessEnv) -> Result<C, ConfigError>,
    log_filter: impl FnOnce(&C) -> &str,
) -> Result<C, ExitCode> {
    let args = std::env::args().skip(1).collect();
    match load(args, &ProcessEnv) {
        Ok(config) => {
            logging::init(log_filter(&config));
            Ok(config)
        }
        Err(e) => {
            eprintln!("{binary}: {e}");
            Err(ExitCode::from(BAD_CONFIG))
        }
    }
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
