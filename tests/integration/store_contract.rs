//! One contract for every store adapter: each test runs on real PostgreSQL and on a SQLite
//! file, so the embedded shortener and the scaled-out stack keep the same semantics.

use application::ports::{NewKey, RepoError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{
    ApiKey, ClickEvent, CountryCode, DayRange, DeviceType, EnrichedClick, KeyId, Link, LinkQuery,
    LongUrl, Page, Role, SearchTerm, ShortCode, SortKey, SortOrder, TrafficSource, Visibility,
    Visit,
};
use integration_tests::stores::{Backend, TestStores};
use rstest::rstest;

fn link(code: &str, url: &str, created_at: DateTime<Utc>) -> Link {
    Link {
        code: ShortCode::parse(code).unwrap(),
        url: LongUrl::parse(url).unwrap(),
        created_at,
        owner: None,
    }
}

/// Microsecond precision: what both stores keep.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap()
}

fn codes(links: &[Link]) -> Vec<&str> {
    links.iter().map(|l| l.code.as_str()).collect()
}

#[rstest]
#[async_std::test]
async fn a_stored_link_reads_back_exactly(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    let stored = link("abcDEF12", "https://example.com/a?b=c#d", t0());

    stores.links.insert(&stored).await.unwrap();

    assert_eq!(stores.links.find(&stored.code).await.unwrap(), Some(stored));
}

#[rstest]
#[async_std::test]
async fn a_taken_code_is_reported_as_such(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    stores
        .links
        .insert(&link("abcDEF12", "https://a.example/", t0()))
        .await
        .unwrap();

    let again = stores
        .links
        .insert(&link("abcDEF12", "https://b.example/", t0()))
        .await;

    assert_eq!(again, Err(RepoError::CodeTaken));
}

#[rstest]
#[async_std::test]
async fn codes_are_case_sensitive(#[values(Backend::Postgres, Backend::Sqlite)] backend: Backend) {
    let stores = TestStores::create(backend).await;
    stores
        .links
        .insert(&link("abcdefgh", "https://lower.example/", t0()))
        .await
        .unwrap();
    stores
        .links
        .insert(&link("ABCDEFGH", "https://upper.example/", t0()))
        .await
        .unwrap();

    let upper = stores
        .links
        .find(&ShortCode::parse("ABCDEFGH").unwrap())
        .await;

    assert_eq!(
        upper.unwrap().unwrap().url.as_str(),
        "https://upper.example/"
    );
}

#[rstest]
#[async_std::test]
async fn an_unknown_code_is_none(#[values(Backend::Postgres, Backend::Sqlite)] backend: Backend) {
    let stores = TestStores::create(backend).await;

    let found = stores
        .links
        .find(&ShortCode::parse("nothere1").unwrap())
        .await;

    assert_eq!(found, Ok(None));
}

#[rstest]
#[async_std::test]
async fn delete_removes_once(#[values(Backend::Postgres, Backend::Sqlite)] backend: Backend) {
    let stores = TestStores::create(backend).await;
    let stored = link("abcDEF12", "https://example.com/", t0());
    stores.links.insert(&stored).await.unwrap();

    assert_eq!(stores.links.delete(&stored.code).await, Ok(true));
    assert_eq!(stores.links.find(&stored.code).await, Ok(None));
    assert_eq!(stores.links.delete(&stored.code).await, Ok(false));
}

async fn seed_listing(stores: &TestStores) {
    let rows = [
        ("code0001", "https://d.example/plain", 0),
        ("code0002", "https://a.example/100%25", 1),
        ("code0003", "https://c.example/snake_case", 2),
        ("code0004", "https://b.example/snakeXcase", 3),
        // Same instant as the one before: id must break the tie.
        ("code0005", "https://e.example/SNAKE", 3),
    ];
    for (code, url, minutes) in rows {
        stores
            .links
            .insert(&link(code, url, t0() + Duration::minutes(minutes)))
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
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
    #[case] sort: SortKey,
    #[case] order: SortOrder,
    #[case] expected: &[&str],
) {
    let stores = TestStores::create(backend).await;
    seed_listing(&stores).await;
    let query = LinkQuery {
        sort,
        order,
        ..LinkQuery::default()
    };

    let page = stores.links.list(&query, Visibility::Every).await.unwrap();

    assert_eq!(codes(&page.links), expected);
    assert_eq!(page.total_count, 5);
}

#[rstest]
#[async_std::test]
async fn pages_do_not_overlap(#[values(Backend::Postgres, Backend::Sqlite)] backend: Backend) {
    let stores = TestStores::create(backend).await;
    seed_listing(&stores).await;
    let mut seen = Vec::new();
    for number in 1..=3 {
        let query = LinkQuery {
            page: Page::new(number, 2).unwrap(),
            ..LinkQuery::default()
        };
        let page = stores.links.list(&query, Visibility::Every).await.unwrap();
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
#[case("SnAkE", &["code0005", "code0004", "code0003"])]
// `_` is literal: it doesn't match the X of snakeXcase.
#[case("e_c", &["code0003"])]
// `%` is literal too (stored percent-encoded as %25).
#[case("%25", &["code0002"])]
#[case("%", &["code0002"])]
#[case("\\", &[])]
#[case("nowhere", &[])]
#[async_std::test]
async fn search_takes_the_term_literally(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
    #[case] term: &str,
    #[case] expected: &[&str],
) {
    let stores = TestStores::create(backend).await;
    seed_listing(&stores).await;
    let query = LinkQuery {
        search: SearchTerm::parse(term).unwrap(),
        ..LinkQuery::default()
    };

    let page = stores.links.list(&query, Visibility::Every).await.unwrap();

    assert_eq!(codes(&page.links), expected);
    assert_eq!(page.total_count, expected.len() as u64);
}

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

#[rstest]
#[async_std::test]
async fn a_key_is_found_by_its_hash_listed_and_revoked_once(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    let keys = &stores.keys;

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

#[rstest]
#[async_std::test]
async fn a_members_listing_holds_only_its_own_links(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    let (keys, repo) = (&stores.keys, &stores.links);
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
            owner,
            ..link(code, "https://example.com/", at(0))
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

/// A click on `code` at `at`, from a visitor the enrichment rules sort as the arguments say.
fn click(
    code: &str,
    at: DateTime<Utc>,
    country: &str,
    user_agent: &str,
    referer: Option<&str>,
) -> EnrichedClick {
    let visit = Visit::new(None, Some(user_agent), referer);
    let event = ClickEvent::new(ShortCode::parse(code).unwrap(), visit, at);
    EnrichedClick::new(event, CountryCode::parse(country))
}

#[rstest]
#[async_std::test]
async fn storing_the_same_clicks_again_counts_them_once(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    let code = ShortCode::parse("sameAAA1").unwrap();
    let batch: Vec<EnrichedClick> = (0..10)
        .map(|_| click("sameAAA1", at(0), "DE", "curl/8", None))
        .collect();
    // Within one batch too: a duplicate event id is counted once.
    let mut with_duplicate = batch.clone();
    with_duplicate.push(batch[0].clone());

    assert_eq!(stores.clicks.store(&with_duplicate).await, Ok(10));
    assert_eq!(stores.clicks.store(&batch).await, Ok(0));
    assert_eq!(stores.clicks.store(&[]).await, Ok(0));
    assert_eq!(stores.stats.click_count(&code).await, Ok(10));
    let day = at(0).date_naive();
    let stats = stores
        .stats
        .click_stats(&code, DayRange::new(day, day).unwrap())
        .await
        .unwrap();
    assert_eq!(stats.total, 10);
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[rstest]
#[async_std::test]
async fn stats_break_a_range_down_by_day_country_device_and_source(
    #[values(Backend::Postgres, Backend::Sqlite)] backend: Backend,
) {
    let stores = TestStores::create(backend).await;
    let code = ShortCode::parse("statAAA1").unwrap();
    let first = DateTime::parse_from_rfc3339("2026-03-01T23:59:59.999999Z")
        .unwrap()
        .to_utc();
    let second = first + Duration::microseconds(1);
    let phone = "Mozilla/5.0 (iPhone; Mobile)";
    let desktop = "Mozilla/5.0 (Windows NT 10.0)";
    let mut clicks = vec![
        click("statAAA1", first, "DE", phone, Some("https://t.co/x")),
        click("statAAA1", first, "FR", desktop, None),
        click(
            "statAAA1",
            second,
            "FR",
            desktop,
            Some("https://www.google.com/"),
        ),
        click("statAAA1", second, "FR", "curl/8", None),
        click("statAAA1", second, "XX", phone, None),
        // Outside the range, and another link: in the count, never in these stats.
        click("statAAA1", second + Duration::days(2), "DE", phone, None),
        click("elseAAA1", second, "DE", phone, None),
    ];
    // In two batches, so the counters grow rather than start.
    let rest = clicks.split_off(3);
    stores.clicks.store(&clicks).await.unwrap();
    stores.clicks.store(&rest).await.unwrap();

    let range = DayRange::new(day("2026-03-01"), day("2026-03-02")).unwrap();
    let stats = stores.stats.click_stats(&code, range).await.unwrap();

    assert_eq!(stats.total, 5);
    assert_eq!(
        stats.by_day,
        [(day("2026-03-01"), 2), (day("2026-03-02"), 3)]
    );
    let countries: Vec<(String, u64)> = stats
        .by_country
        .iter()
        .map(|(c, n)| (c.to_string(), *n))
        .collect();
    // Most clicks first; a tie in name order.
    assert_eq!(
        countries,
        [("FR".into(), 3), ("DE".into(), 1), ("XX".into(), 1)]
    );
    assert_eq!(
        stats.by_device,
        [
            (DeviceType::Desktop, 2),
            (DeviceType::Mobile, 2),
            (DeviceType::Bot, 1)
        ]
    );
    assert_eq!(
        stats.by_source,
        [
            (TrafficSource::Direct, 3),
            (TrafficSource::Search, 1),
            (TrafficSource::Social, 1)
        ]
    );
    assert_eq!(stores.stats.click_count(&code).await, Ok(6));

    let empty = DayRange::new(day("2026-01-01"), day("2026-01-31")).unwrap();
    let nothing = stores.stats.click_stats(&code, empty).await.unwrap();
    assert_eq!(nothing, domain::ClickStats::default());
    let never = ShortCode::parse("neverAA1").unwrap();
    assert_eq!(stores.stats.click_count(&never).await, Ok(0));
}
