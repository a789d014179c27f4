//! admin: manages API keys in the database at `DATABASE_URL` (see [`bootstrap::admin`]).

use std::process::ExitCode;

use adapter_postgres::{PgConfig, PgKeyStore};
use application::ports::{RandomKeys, SystemClock};
use bootstrap::admin::{Command, USAGE, run};
use bootstrap::config::{ProcessEnv, database_url};
use bootstrap::main_support::BAD_CONFIG;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match Command::parse(&args) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("admin: {problem}\n{USAGE}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    let url = match database_url(&ProcessEnv) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("admin: {e}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    let config = PgConfig {
        url,
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(10),
    };
    let db = match adapter_postgres::connect(&config).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("admin: DATABASE_URL: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keys = PgKeyStore::new(db);
    match run(
        command,
        &keys,
        &RandomKeys,
        &SystemClock,
        &mut std::io::stdout(),
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("admin: {e}");
            ExitCode::FAILURE
        }
    }
}
