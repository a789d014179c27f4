//! The `migrate` binary as an operator runs it, where no database is needed. (Its migrations on
//! a real PostgreSQL: tests/integration/migrate_cli.rs. Cargo builds this package's binary for
//! these tests, which `cargo test --workspace` runs.)

use std::process::Command;

/// The reason the server can't be had, at once: not a pool's silent wait ending in "timed out".
#[test]
fn an_unreachable_database_is_named_with_the_reason() {
    let refused = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("up")
        .env("DATABASE_URL", "postgres://u:secret@127.0.0.1:1/x")
        .output()
        .expect("run migrate");

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

#[test]
fn a_bad_command_is_the_usage() {
    let usage = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("sideways")
        .output()
        .expect("run migrate");

    assert_eq!(usage.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&usage.stderr),
        "migrate: usage: migrate up|status   (database from DATABASE_URL)\n"
    );
}
