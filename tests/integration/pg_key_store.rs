//! `PgKeyStore` against a real PostgreSQL, and links owned by its keys.

use adapter_postgres::{PgKeyStore, PgUrlRepo};
use application::ports::{KeyStore, NewKey, UrlRepo};
use chrono::{DateTime, Utc};
use domain::{ApiKey, KeyId, Link, LinkQuery, LongUrl, Role, ShortCode, Visibility};
use integration_tests::postgres::TestDatabase;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
}

fn new_key(name: &str, role: Role, secret: u8) -> NewKey {
    NewKey {
        name: name.into(),
        role,
        hash: ApiKey::from_secret([secret; 32]).hash(),
        created_at: at(0),
    }
}

#[async_std::test]
async fn a_key_is_found_by_its_hash_listed_and_revoked_once() {
    let db = TestDatabase::create().await;
    let keys = PgKeyStore::new(db.connect().await);

    let ops = keys.create(&new_key("ops", Role::Admin, 1)).await.unwrap();
    let ci = keys.create(&new_key("ci", Role::Member, 2)).await.unwrap();
    assert_eq!((ops.name.as_str(), ops.role), ("ops", Role::Admin));
    assert_eq!(ci.revoked_at, None);

    let found = keys.find(&ApiKey::from_secret([2; 32]).hash()).await;
    assert_eq!(found, Ok(Some(ci.clone())));
    assert_eq!(
        keys.find(&ApiKey::from_secret([3; 32]).hash()).await,
        Ok(None)
    );

    let revoked = keys.revoke(ci.id, at(60)).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(60)));
    // Revoking again keeps the first time.
    let again = keys.revoke(ci.id, at(120)).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(at(60)));
    assert_eq!(keys.revoke(KeyId(999), at(60)).await, Ok(None));

    let listed = keys.list().await.unwrap();
    let names: Vec<_> = listed
        .iter()
        .map(|k| (k.name.as_str(), k.revoked_at))
        .collect();
    assert_eq!(names, [("ops", None), ("ci", Some(at(60)))]);
}

#[async_std::test]
async fn a_members_listing_holds_only_its_own_links() {
    let db = TestDatabase::create().await;
    let conn = db.connect().await;
    let keys = PgKeyStore::new(conn.clone());
    let repo = PgUrlRepo::new(conn);
    let mine = keys
        .create(&new_key("mine", Role::Member, 1))
        .await
        .unwrap()
        .id;
    let theirs = keys
        .create(&new_key("theirs", Role::Member, 2))
        .await
        .unwrap()
        .id;
    for (code, owner) in [
        ("mine0001", Some(mine)),
        ("their001", Some(theirs)),
        ("anon0001", None),
        ("mine0002", Some(mine)),
    ] {
        let link = Link {
            code: ShortCode::parse(code).unwrap(),
            url: LongUrl::parse("https://example.com/").unwrap(),
            created_at: at(0),
            owner,
        };
        repo.insert(&link).await.unwrap();
    }

    let page = repo
        .list(&LinkQuery::default(), Visibility::OwnedBy(mine))
        .await
        .unwrap();
    let mut codes: Vec<_> = page.links.iter().map(|l| l.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["mine0001", "mine0002"]);
    assert_eq!(page.total_count, 2);
    assert!(page.links.iter().all(|l| l.owner == Some(mine)));

    let everything = repo
        .list(&LinkQuery::default(), Visibility::Every)
        .await
        .unwrap();
    assert_eq!(everything.total_count, 4);
    let nothing = repo
        .list(&LinkQuery::default(), Visibility::Nothing)
        .await
        .unwrap();
    assert_eq!(nothing.total_count, 0);

    let anonymous = repo.find(&ShortCode::parse("anon0001").unwrap()).await;
    assert_eq!(anonymous.unwrap().unwrap().owner, None);
}
