//! `PgUrlRepo` against a real PostgreSQL: what only PostgreSQL has, the plans its listing gets.
//! What every store must do is in store_contract.rs.

use adapter_postgres::PgUrlRepo;
use domain::{KeyId, LinkQuery, SearchTerm, SortKey, SortOrder, Visibility};
use integration_tests::postgres::TestDatabase;
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection};

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
