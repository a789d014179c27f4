//! `PgUrlRepo` against a real PostgreSQL.

use adapter_postgres::PgUrlRepo;
use application::ports::{RepoError, UrlRepo};
use chrono::{DateTime, Duration, Utc};
use domain::{
    KeyId, Link, LinkQuery, LongUrl, Page, SearchTerm, ShortCode, SortKey, SortOrder, Visibility,
};
use integration_tests::postgres::TestDatabase;
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection};

fn link(code: &str, url: &str, created_at: DateTime<Utc>) -> Link {
    Link {
        code: ShortCode::parse(code).unwrap(),
        url: LongUrl::parse(url).unwrap(),
        created_at,
        owner: None,
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap()
}

async fn repo(db: &TestDatabase) -> PgUrlRepo {
    PgUrlRepo::new(db.connect().await)
}

fn codes(links: &[Link]) -> Vec<&str> {
    links.iter().map(|l| l.code.as_str()).collect()
}

#[async_std::test]
async fn a_stored_link_reads_back_exactly() {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    let stored = link("abcDEF12", "https://example.com/a?b=c#d", t0());

    repo.insert(&stored).await.unwrap();

    assert_eq!(repo.find(&stored.code).await.unwrap(), Some(stored));
}

#[async_std::test]
async fn a_taken_code_is_reported_as_such() {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    repo.insert(&link("abcDEF12", "https://a.example/", t0()))
        .await
        .unwrap();

    let again = repo
        .insert(&link("abcDEF12", "https://b.example/", t0()))
        .await;

    assert_eq!(again, Err(RepoError::CodeTaken));
}

#[async_std::test]
async fn codes_are_case_sensitive() {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    repo.insert(&link("abcdefgh", "https://lower.example/", t0()))
        .await
        .unwrap();
    repo.insert(&link("ABCDEFGH", "https://upper.example/", t0()))
        .await
        .unwrap();

    let upper = repo.find(&ShortCode::parse("ABCDEFGH").unwrap()).await;

    assert_eq!(
        upper.unwrap().unwrap().url.as_str(),
        "https://upper.example/"
    );
}

#[async_std::test]
async fn an_unknown_code_is_none() {
    let db = TestDatabase::create().await;

    let found = repo(&db)
        .await
        .find(&ShortCode::parse("nothere1").unwrap())
        .await;

    assert_eq!(found, Ok(None));
}

#[async_std::test]
async fn delete_removes_once() {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    let stored = link("abcDEF12", "https://example.com/", t0());
    repo.insert(&stored).await.unwrap();

    assert_eq!(repo.delete(&stored.code).await, Ok(true));
    assert_eq!(repo.find(&stored.code).await, Ok(None));
    assert_eq!(repo.delete(&stored.code).await, Ok(false));
}

async fn seed_listing(repo: &PgUrlRepo) {
    let rows = [
        ("code0001", "https://d.example/plain", 0),
        ("code0002", "https://a.example/100%25", 1),
        ("code0003", "https://c.example/snake_case", 2),
        ("code0004", "https://b.example/snakeXcase", 3),
        // Same instant as the one before: id must break the tie.
        ("code0005", "https://e.example/SNAKE", 3),
    ];
    for (code, url, minutes) in rows {
        repo.insert(&link(code, url, t0() + Duration::minutes(minutes)))
            .await
            .unwrap();
    }
}

#[rstest]
#[case(SortKey::CreatedAt, SortOrder::Desc, &["code0005", "code0004", "code0003", "code0002", "code0001"])]
#[case(SortKey::CreatedAt, SortOrder::Asc, &["code0001", "code0002", "code0003", "code0004", "code0005"])]
#[case(SortKey::OriginalUrl, SortOrder::Asc, &["code0002", "code0004", "code0003", "code0001", "code0005"])]
#[case(SortKey::OriginalUrl, SortOrder::Desc, &["code0005", "code0001", "code0003", "code0004", "code0002"])]
#[async_std::test]
async fn lists_in_the_asked_order(
    #[case] sort: SortKey,
    #[case] order: SortOrder,
    #[case] expected: &[&str],
) {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    seed_listing(&repo).await;
    let query = LinkQuery {
        sort,
        order,
        ..LinkQuery::default()
    };

    let page = repo.list(&query, Visibility::Every).await.unwrap();

    assert_eq!(codes(&page.links), expected);
    assert_eq!(page.total_count, 5);
}

#[async_std::test]
async fn pages_do_not_overlap() {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    seed_listing(&repo).await;
    let mut seen = Vec::new();
    for number in 1..=3 {
        let query = LinkQuery {
            page: Page::new(number, 2).unwrap(),
            ..LinkQuery::default()
        };
        let page = repo.list(&query, Visibility::Every).await.unwrap();
        assert_eq!(page.total_count, 5);
        seen.extend(codes(&page.links).into_iter().map(str::to_owned));
    }
    assert_eq!(
        seen,
        ["code0005", "code0004", "code0003", "code0002", "code0001"]
    );
}

#[rstest]
// Case-insensitive substring.
#[case("snake", &["code0005", "code0004", "code0003"])]
// `_` is literal: it doesn't match the X of snakeXcase.
#[case("e_c", &["code0003"])]
// `%` is literal too (stored percent-encoded as %25).
#[case("%25", &["code0002"])]
#[case("%", &["code0002"])]
#[case("\\", &[])]
#[case("nowhere", &[])]
#[async_std::test]
async fn search_takes_the_term_literally(#[case] term: &str, #[case] expected: &[&str]) {
    let db = TestDatabase::create().await;
    let repo = repo(&db).await;
    seed_listing(&repo).await;
    let query = LinkQuery {
        search: SearchTerm::parse(term).unwrap(),
        ..LinkQuery::default()
    };

    let page = repo.list(&query, Visibility::Every).await.unwrap();

    assert_eq!(codes(&page.links), expected);
    assert_eq!(page.total_count, expected.len() as u64);
}

/// The plan PostgreSQL picks for the page query `list` runs, on a table big enough that a
/// sequential scan would be the cheaper choice if no index fitted.
async fn plan(db: &DatabaseConnection, query: &LinkQuery, visible: Visibility) -> String {
    let sql = format!("EXPLAIN {}", PgUrlRepo::list_page_sql(query, visible));
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

const EVERY: Visibility = Visibility::Every;
const MEMBER: Visibility = Visibility::OwnedBy(KeyId(3));

#[rstest]
#[case(
    SortKey::CreatedAt,
    SortOrder::Desc,
    None,
    EVERY,
    "urls_created_at_id_idx"
)]
#[case(
    SortKey::CreatedAt,
    SortOrder::Asc,
    None,
    EVERY,
    "urls_created_at_id_idx"
)]
#[case(
    SortKey::OriginalUrl,
    SortOrder::Asc,
    None,
    EVERY,
    "urls_original_url_id_idx"
)]
#[case(
    SortKey::OriginalUrl,
    SortOrder::Desc,
    None,
    EVERY,
    "urls_original_url_id_idx"
)]
#[case(
    SortKey::CreatedAt,
    SortOrder::Desc,
    Some("needle"),
    EVERY,
    "urls_original_url_trgm_idx"
)]
// A member's listing: one owner's range of the same orderings.
#[case(
    SortKey::CreatedAt,
    SortOrder::Desc,
    None,
    MEMBER,
    "urls_owner_created_at_id_idx"
)]
#[case(
    SortKey::OriginalUrl,
    SortOrder::Asc,
    None,
    MEMBER,
    "urls_owner_original_url_id_idx"
)]
#[async_std::test]
async fn listing_uses_an_index(
    #[case] sort: SortKey,
    #[case] order: SortOrder,
    #[case] search: Option<&str>,
    #[case] visible: Visibility,
    #[case] index: &str,
) {
    let db = TestDatabase::create().await;
    let conn = db.connect().await;
    // 20 keys, each owning a 20th of the links.
    conn.execute_unprepared(
        "INSERT INTO api_keys (name, hash, role)
         SELECT 'key ' || n, sha256(n::text::bytea), 'member' FROM generate_series(1, 20) AS n;
         INSERT INTO urls (short_code, original_url, created_at, owner_key_id)
         SELECT lpad(n::text, 8, '0'), 'https://example.com/item/' || n,
                now() - n * interval '1 second', 1 + n % 20
         FROM generate_series(1, 20000) AS n;
         UPDATE urls SET original_url = 'https://rare.example/needle' WHERE id % 5000 = 0;",
    )
    .await
    .unwrap();
    // As autovacuum would leave it: statistics fresh and the GIN pending list merged.
    for statement in ["VACUUM ANALYZE urls", "ANALYZE api_keys"] {
        conn.execute_unprepared(statement).await.unwrap();
    }
    let query = LinkQuery {
        sort,
        order,
        search: search.map(|s| SearchTerm::parse(s).unwrap().unwrap()),
        ..LinkQuery::default()
    };

    let plan = plan(&conn, &query, visible).await;

    assert!(plan.contains(index), "expected {index} in:\n{plan}");
    assert!(!plan.contains("Seq Scan"), "sequential scan in:\n{plan}");
}
