//! A fresh, migrated PostgreSQL database per test.
//!
//! With `TEST_DATABASE_URL` set (a superuser URL, as `.ci/run` and `scripts/postgres.sh`
//! provide), each test creates its own database on that server and drops it afterwards.
//! Without it, each test starts its own PostgreSQL container through testcontainers, which
//! needs a running Docker daemon.

use migrations::Migrator;
use migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use testcontainers::ContainerAsync;
use testcontainers::ImageExt;
use testcontainers::runners::AsyncRunner;
use testcontainers_modules::postgres::Postgres;

/// The image tag used when no `TEST_DATABASE_URL` is given: the PostgreSQL major version that
/// Debian 12 ships, so both paths test the same server.
pub const POSTGRES_TAG: &str = "15";

pub struct TestDatabase {
    /// Connection URL of this test's own database.
    pub url: String,
    admin_url: String,
    name: String,
    container: Option<ContainerAsync<Postgres>>,
}

impl TestDatabase {
    /// Creates and migrates a database no other test uses.
    pub async fn create() -> Self {
        let (admin_url, container) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                let container = Postgres::default()
                    .with_tag(POSTGRES_TAG)
                    .start()
                    .await
                    .expect(
                        "no TEST_DATABASE_URL and no PostgreSQL container: set TEST_DATABASE_URL \
                         (see scripts/postgres.sh) or start Docker",
                    );
                let port = container
                    .get_host_port_ipv4(5432)
                    .await
                    .expect("container port");
                (
                    format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres"),
                    Some(container),
                )
            }
        };
        let name = format!("test_{}", uuid::Uuid::now_v7().simple());
        let admin = connect(&admin_url).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let url = with_database(&admin_url, &name);
        let db = connect(&url).await;
        Migrator::up(&db, None)
            .await
            .expect("migrate the test database");
        Self {
            url,
            admin_url,
            name,
            container,
        }
    }

    /// A new connection pool to this test's database.
    pub async fn connect(&self) -> DatabaseConnection {
        connect(&self.url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // A container takes its databases with it.
        if self.container.is_some() {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop can't await; a thread of its own runs the statement to completion.
        let dropped = std::thread::spawn(move || {
            async_std::task::block_on(async {
                connect(&admin_url)
                    .await
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to the test server: {e}"))
}

fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}
