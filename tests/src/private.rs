//! A PostgreSQL or Kafka server of one test's own, so that the test can stop and restart it
//! (the fault tests) without disturbing the others. Both come from the repository's scripts:
//! Debian's PostgreSQL and Maven Central's Kafka, on free ports in a temporary directory.

use std::path::PathBuf;
use std::process::Command;

pub(crate) fn script(name: &str, args: &[&str]) -> String {
    let path = format!("{}/../scripts/{name}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {path}: {e}"));
    assert!(
        output.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A free port below the kernel's ephemeral range. These servers restart on the ports they
/// had, and while one is down, a port from the ephemeral range can be handed to some client's
/// connection (even one trying to reach it), which would stop the restart.
pub(crate) fn free_port() -> u16 {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    loop {
        let port = rand::random_range(10_000..ephemeral_start - 1);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub(crate) fn temp_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{kind}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A PostgreSQL cluster of this test's own, with the `shortener` database migrated.
pub struct PrivatePostgres {
    dir: PathBuf,
    port: u16,
    /// The `shortener` database's URL.
    pub url: String,
}

impl PrivatePostgres {
    pub async fn start() -> Self {
        let dir = temp_dir("pg");
        let port = free_port();
        let mut server = Self {
            dir,
            port,
            url: String::new(),
        };
        server.url = server.resume();
        let db = sea_orm::Database::connect(&server.url)
            .await
            .expect("connect to the private server");
        <migrations::Migrator as migrations::MigratorTrait>::up(&db, None)
            .await
            .expect("migrate the private server");
        server
    }

    /// Stops the server (fast shutdown: connections are cut, as in a crash of the database).
    pub fn stop(&self) {
        script("postgres.sh", &["stop", &self.dir.display().to_string()]);
    }

    /// Starts it again on the same port and data.
    pub fn resume(&self) -> String {
        script(
            "postgres.sh",
            &[
                "start",
                &self.dir.display().to_string(),
                &self.port.to_string(),
            ],
        )
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Kafka broker of this test's own.
pub struct PrivateKafka {
    dir: PathBuf,
    port: u16,
    pub brokers: String,
}

impl PrivateKafka {
    pub fn start() -> Self {
        let dir = temp_dir("kafka");
        // The controller takes the port after the broker's.
        let port = loop {
            let port = free_port();
            if std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                break port;
            }
        };
        let mut broker = Self {
            dir,
            port,
            brokers: String::new(),
        };
        broker.brokers = broker.resume();
        broker
    }

    pub fn stop(&self) {
        script("kafka.sh", &["stop", &self.dir.display().to_string()]);
    }

    /// Starts it again on the same ports and data.
    pub fn resume(&self) -> String {
        script(
            "kafka.sh",
            &[
                "start",
                &self.dir.display().to_string(),
                &self.port.to_string(),
            ],
        )
    }
}

impl Drop for PrivateKafka {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
