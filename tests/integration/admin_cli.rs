//! The key tool's three commands (`admin` on a real PostgreSQL, `shortener admin` on the
//! embedded file), and what its keys open on the API they serve.

use std::process::{Command, Output};

use integration_tests::postgres::TestDatabase;
use integration_tests::process::binary_path;
use reqwest::StatusCode;

use rstest::rstest;

use adapter_http::Engine;

use crate::url_api_app::{Composition, TestApp};

fn admin(database_url: &str, args: &[&str]) -> Output {
    Command::new(binary_path("admin"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("run admin")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[rstest]
#[async_std::test]
async fn keys_made_listed_and_revoked_with_admin_open_and_close_the_api(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
) {
    // The key tool has nothing to do with the engine: the default serves.
    let app = TestApp::start_with(composition, Engine::default(), |config| {
        config.auth.key_cache_ttl = std::time::Duration::from_millis(1);
    })
    .await;

    let created = stdout(&app.admin(&[
        "keys",
        "create",
        "--name",
        "release bot",
        "--role",
        "member",
    ]));
    let key = created.lines().last().unwrap().to_owned();
    assert!(key.starts_with("sk_") && key.len() == 46, "{created}");
    let with_key = || {
        app.anonymous
            .get(app.url("/api/v1/links"))
            .bearer_auth(&key)
            .send()
    };
    assert_eq!(with_key().await.unwrap().status(), StatusCode::OK);

    let listed = stdout(&app.admin(&["keys", "list"]));
    let row = listed
        .lines()
        .find(|line| line.contains("release bot"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("member"), "{row}");
    assert!(row.trim_end().ends_with('-'), "not revoked yet: {row}");
    assert!(!listed.contains(&key), "the list shows a secret");
    let id = row.split_whitespace().next().unwrap().to_owned();

    let revoked = stdout(&app.admin(&["keys", "revoke", &id]));
    assert!(revoked.starts_with(&format!("revoked key {id} \"release bot\" at ")));
    // The cache remembers keys for a millisecond here: the next request sees the revocation.
    async_std::task::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(with_key().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[async_std::test]
async fn a_bad_command_or_database_url_is_one_line_and_a_failure() {
    let db = TestDatabase::create().await;

    let unknown = admin(&db.url, &["keys", "revoke", "999999"]);
    assert!(!unknown.status.success());
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "admin: no key has the id 999999\n"
    );

    let usage = admin(&db.url, &["keys", "create", "--name", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).starts_with("admin: --role is required"));

    let bad_url = admin("mysql://u:secret@db/x", &["keys", "list"]);
    assert_eq!(bad_url.status.code(), Some(2));
    let line = String::from_utf8_lossy(&bad_url.stderr);
    assert!(line.contains("DATABASE_URL"), "{line}");
    assert!(!line.contains("secret"), "{line}");
}
