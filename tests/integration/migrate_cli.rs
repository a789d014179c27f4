//! The `migrate` binary as an operator runs it, on a real PostgreSQL. (Its errors without a
//! database: migrations/tests/cli.rs, whose build also makes the binary this test runs.)

use std::process::{Command, Output};

use integration_tests::postgres::TestDatabase;
use integration_tests::process::binary_path;

fn migrate(database_url: &str, args: &[&str]) -> Output {
    Command::new(binary_path("migrate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("run migrate")
}

#[async_std::test]
async fn up_applies_every_migration_once_and_status_lists_them() {
    let db = TestDatabase::create().await;

    let up = migrate(&db.url, &["up"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let status = migrate(&db.url, &["status"]);
    let listed = String::from_utf8_lossy(&status.stdout);
    let every = <migrations::Migrator as migrations::MigratorTrait>::migrations().len();
    assert_eq!(listed.lines().count(), every, "{listed}");
    assert!(
        listed.lines().all(|line| line.starts_with("Applied")),
        "{listed}"
    );
}
