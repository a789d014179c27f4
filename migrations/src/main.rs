//! `migrate up` applies pending migrations; `migrate status` lists each one and whether it is
//! applied. The database comes from `DATABASE_URL`.

use std::process::ExitCode;

use migrations::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@localhost:5432/shortener";
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
    let db = Database::connect(ConnectOptions::new(database_url))
        .await
        .map_err(|e| format!("DATABASE_URL: cannot connect to {shown}: {e}"))?;
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
