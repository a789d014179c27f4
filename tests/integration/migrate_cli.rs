//! The `migrate` binary as an operator runs it.

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

/// The reason the server can't be had, at once: not a pool's silent wait ending in "timed out".
#[test]
fn an_unreachable_database_is_named_with_the_reason() {
    let refused = migrate("postgres://u:secret@127.0.0.1:1/x", &["up"]);

    assert_eq!(refused.status.code(), Some(1));
    let line = String::from_utf8_lossy(&refused.stderr);
    assert!(
        line.starts_with("migrate: DATABASE_URL: cannot connect to"),
        "{line}"
    );
    assert!(line.contains("Connection refused"), "{line}");
    assert!(!line.contains("secret"), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
}
