//! `migrate up` applies pending migrations; `migrate status` lists each one and whether it is
//! applied. The database comes from `DATABASE_URL`.

use std::process::ExitCode;
use std::time::Duration;

use migrations::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::sqlx::{Connection, PgConnection};
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@localhost:5432/shortener";
/// How long the server may take to answer before `migrate` gives up on it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const USAGE: &str = "usage: migrate up|status   (database from DATABASE_URL)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("migrate: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.as_slice() {
        [c] if c == "up" || c == "status" => c.as_str(),
        _ => return Err(USAGE.to_owned()),
    };
    let database_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let shown = redacted(&database_url)?;
    let unreachable =
        |e: &dyn std::fmt::Display| format!("DATABASE_URL: cannot connect to {shown}: {e}");
    // A pool retries a refused connection until its timeout (30 s), silent, and then says only
    // that it timed out: one plain connection first says at once why the server can't be had.
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(&database_url)).await {
        Ok(Ok(probe)) => {
            let _ = probe.close().await;
        }
        Ok(Err(e)) => return Err(unreachable(&e)),
        Err(_) => return Err(unreachable(&format!("no answer in {CONNECT_TIMEOUT:?}"))),
    }
    let mut options = ConnectOptions::new(database_url);
    options
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT);
    let db = Database::connect(options)
        .await
        .map_err(|e| unreachable(&e))?;
    match command {
        "up" => {
            Migrator::up(&db, None)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            #[allow(clippy::print_stdout)]
            {
                println!("migrate: schema up to date on {shown}");
            }
        }
        _ => {
            let migrations = Migrator::get_migration_with_status(&db)
                .await
                .map_err(|e| format!("cannot read migration status: {e}"))?;
            for migration in migrations {
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "{:<10} {}",
                        migration.status().to_string(),
                        migration.name()
                    );
                }
            }
        }
    }
    Ok(())
}

/// The URL with its password masked, for messages; also rejects what isn't a PostgreSQL URL.
fn redacted(database_url: &str) -> Result<String, String> {
    let mut url =
        url::Url::parse(database_url).map_err(|e| format!("DATABASE_URL: not a URL ({e})"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "DATABASE_URL: scheme must be postgres://, not {}://",
            url.scheme()
        ));
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    Ok(url.to_string())
}
