//! A [`UrlRepo`] decorator that keeps links in process memory, so that a redirect for a code
//! seen recently costs no database round trip. No Redis: each url-api keeps its own cache.
//!
//! - Bounded in memory (entries are weighed by their URL's length) and in time: an entry
//!   lives at most `ttl`, which bounds how long another instance's delete can go unseen.
//! - Concurrent misses for one code are coalesced into one call to the store.
//! - A delete through this instance is seen at once; only links that exist are cached, so a
//!   code created after a miss is found at once too.
//! - A delete through another instance is seen as soon as its news arrives ([`CachedLinks`],
//!   the cache's driving side); until then, the TTL bounds it. A lookup that was already
//!   asking the store when the news came can't put the link back: deleted codes are
//!   remembered for a TTL and checked after every store answer.

use std::sync::Arc;
use std::time::Duration;

use application::LinkCopies;
use application::ports::{LinkPage, RepoError, UrlRepo};
use async_trait::async_trait;
use domain::{Link, LinkEvent, LinkQuery, ShortCode, Visibility};
use moka::future::Cache;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

/// How much the cache may hold.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// Memory for cached links, roughly: each weighs its URL plus a fixed overhead.
    pub max_bytes: u64,
    /// An entry older than this is fetched again.
    pub ttl: Duration,
}

/// What an entry costs beyond its URL: the key and the link's code, the parsed URL's
/// structure, and moka's own bookkeeping (the map's bucket, the entry, a node in each of its
/// two order queues). Measured: 1M cold redirects filling the cache grew url-api's RSS by
/// about 550 bytes per entry with short URLs.
const ENTRY_OVERHEAD: u32 = 512;

/// Weights count in units of this many bytes. moka sizes its frequency sketch by the capacity
/// in weight units: counted in bytes, 16 MiB of links made a sketch for 16 M entries, which
/// the benchmark saw as 30 MiB more peak RSS.
const BYTES_PER_UNIT: u32 = 256;

/// Deleted codes remembered at most (each for a TTL): more deletes than this within a TTL
/// forget the oldest, which only reopens the race above for them.
const DELETED_CODES: u64 = 100_000;

pub struct CachedUrlRepo<R> {
    store: Arc<R>,
    cached: CachedLinks,
    lookups: Counter<u64>,
}

/// The cached links, and the codes deleted within a TTL. As [`LinkCopies`], the cache's
/// driving side: news of a link deleted through another instance drops it here.
#[derive(Clone)]
pub struct CachedLinks {
    links: Cache<ShortCode, Link>,
    deleted: Cache<ShortCode, ()>,
}

impl CachedLinks {
    async fn forget(&self, code: &ShortCode) {
        // Remembered first: a lookup checks it after the store answers, then again after its
        // answer is cached, so that one of the two sees it.
        self.deleted.insert(*code, ()).await;
        self.links.invalidate(code).await;
    }

    fn was_deleted(&self, code: &ShortCode) -> bool {
        self.deleted.contains_key(code)
    }
}

#[async_trait]
impl LinkCopies for CachedLinks {
    async fn follow(&self, event: LinkEvent) {
        match event {
            LinkEvent::Deleted(code) => self.forget(&code).await,
        }
    }
}

impl<R: UrlRepo> CachedUrlRepo<R> {
    pub fn new(store: R, settings: CacheSettings) -> Self {
        let links = Cache::builder()
            .max_capacity(settings.max_bytes.div_ceil(u64::from(BYTES_PER_UNIT)))
            .weigher(|_code: &ShortCode, link: &Link| {
                u32::try_from(link.url.as_str().len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(ENTRY_OVERHEAD)
                    .div_ceil(BYTES_PER_UNIT)
            })
            .time_to_live(settings.ttl)
            .build();
        let deleted = Cache::builder()
            .max_capacity(DELETED_CODES)
            .time_to_live(settings.ttl)
            .build();
        let lookups = opentelemetry::global::meter("link_cache")
            .u64_counter("link_cache_lookups")
            .with_description("Link lookups by code, by result: hit, miss (asked the store).")
            .build();
        Self {
            store: Arc::new(store),
            cached: CachedLinks { links, deleted },
            lookups,
        }
    }

    /// The cache's driving side, for whatever brings news from other instances.
    pub fn copies(&self) -> CachedLinks {
        self.cached.clone()
    }
}

/// Why a lookup produced no entry; neither outcome is cached.
enum Miss {
    NotFound,
    Failed(RepoError),
}

#[async_trait]
impl<R: UrlRepo> UrlRepo for CachedUrlRepo<R> {
    async fn insert(&self, link: &Link) -> Result<(), RepoError> {
        self.store.insert(link).await?;
        // A new link is usually followed soon after it is made.
        self.cached.deleted.invalidate(&link.code).await;
        self.cached.links.insert(link.code, link.clone()).await;
        Ok(())
    }

    async fn find(&self, code: &ShortCode) -> Result<Option<Link>, RepoError> {
        if let Some(link) = self.cached.links.get(code).await {
            self.lookups.add(1, &[KeyValue::new("result", "hit")]);
            return Ok(Some(link));
        }
        self.lookups.add(1, &[KeyValue::new("result", "miss")]);
        let (store, copies) = (Arc::clone(&self.store), self.cached.clone());
        let code = *code;
        let found = self
            .cached
            .links
            .try_get_with(code, async move {
                match store.find(&code).await {
                    // Asked before a delete elsewhere whose news came while it waited.
                    Ok(Some(_)) if copies.was_deleted(&code) => Err(Miss::NotFound),
                    Ok(Some(link)) => Ok(link),
                    Ok(None) => Err(Miss::NotFound),
                    Err(e) => Err(Miss::Failed(e)),
                }
            })
            .await;
        match found {
            // The news came between the check above and the caching.
            Ok(_) if self.cached.was_deleted(&code) => {
                self.cached.links.invalidate(&code).await;
                Ok(None)
            }
            Ok(link) => Ok(Some(link)),
            Err(miss) => match &*miss {
                Miss::NotFound => Ok(None),
                Miss::Failed(e) => Err(e.clone()),
            },
        }
    }

    async fn list(&self, query: &LinkQuery, visible: Visibility) -> Result<LinkPage, RepoError> {
        self.store.list(query, visible).await
    }

    async fn delete(&self, code: &ShortCode) -> Result<bool, RepoError> {
        let deleted = self.store.delete(code).await;
        // Even when the store failed: it may have deleted before failing to answer.
        self.cached.forget(code).await;
        deleted
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use application::ports::MockUrlRepo;
    use chrono::Utc;
    use domain::LongUrl;

    fn link(code: &str, url: &str) -> Link {
        Link {
            code: ShortCode::parse(code).unwrap(),
            url: LongUrl::parse(url).unwrap(),
            created_at: Utc::now(),
            owner: None,
        }
    }

    fn settings() -> CacheSettings {
        CacheSettings {
            max_bytes: 1 << 20,
            ttl: Duration::from_secs(60),
        }
    }

    #[async_std::test]
    async fn a_second_lookup_is_served_from_memory() {
        let stored = link("abcdefgh", "https://example.com/a");
        let mut store = MockUrlRepo::new();
        let found = stored.clone();
        store
            .expect_find()
            .times(1)
            .returning(move |_| Ok(Some(found.clone())));
        let cache = CachedUrlRepo::new(store, settings());

        for _ in 0..3 {
            assert_eq!(cache.find(&stored.code).await, Ok(Some(stored.clone())));
        }
    }

    #[async_std::test]
    async fn concurrent_misses_ask_the_store_once() {
        let stored = link("abcdefgh", "https://example.com/a");
        let mut store = MockUrlRepo::new();
        let found = stored.clone();
        store.expect_find().times(1).returning(move |_| {
            // Hold the first lookup long enough for the others to arrive and wait on it.
            std::thread::sleep(Duration::from_millis(50));
            Ok(Some(found.clone()))
        });
        let cache = Arc::new(CachedUrlRepo::new(store, settings()));

        let lookups = (0..8).map(|_| {
            let cache = Arc::clone(&cache);
            async_std::task::spawn(async move { cache.find(&stored.code).await })
        });
        for found in futures::future::join_all(lookups).await {
            assert_eq!(found.unwrap().unwrap().code, stored.code);
        }
    }

    #[async_std::test]
    async fn missing_links_and_failures_are_not_cached() {
        let code = ShortCode::parse("abcdefgh").unwrap();
        let mut store = MockUrlRepo::new();
        let mut answers = vec![
            Ok(Some(link("abcdefgh", "https://example.com/new"))),
            Err(RepoError::Unavailable("down".into())),
            Ok(None),
        ];
        store
            .expect_find()
            .times(3)
            .returning(move |_| answers.pop().unwrap());
        let cache = CachedUrlRepo::new(store, settings());

        assert_eq!(cache.find(&code).await, Ok(None));
        assert_eq!(
            cache.find(&code).await,
            Err(RepoError::Unavailable("down".into()))
        );
        assert!(cache.find(&code).await.unwrap().is_some());
    }

    #[async_std::test]
    async fn a_deleted_link_is_forgotten_at_once() {
        let stored = link("abcdefgh", "https://example.com/a");
        let mut store = MockUrlRepo::new();
        store.expect_insert().times(1).returning(|_| Ok(()));
        store.expect_delete().times(1).returning(|_| Ok(true));
        store.expect_find().times(1).returning(|_| Ok(None));
        let cache = CachedUrlRepo::new(store, settings());

        cache.insert(&stored).await.unwrap();
        assert!(cache.find(&stored.code).await.unwrap().is_some());
        assert_eq!(cache.delete(&stored.code).await, Ok(true));
        assert_eq!(cache.find(&stored.code).await, Ok(None));
    }

    #[async_std::test]
    async fn a_code_that_is_taken_caches_nothing() {
        let refused = link("abcdefgh", "https://example.com/mine");
        let held = link("abcdefgh", "https://example.com/theirs");
        let mut store = MockUrlRepo::new();
        store
            .expect_insert()
            .returning(|_| Err(RepoError::CodeTaken));
        let found = held.clone();
        store
            .expect_find()
            .times(1)
            .returning(move |_| Ok(Some(found.clone())));
        let cache = CachedUrlRepo::new(store, settings());

        assert_eq!(cache.insert(&refused).await, Err(RepoError::CodeTaken));
        assert_eq!(cache.find(&held.code).await, Ok(Some(held)));
    }

    #[async_std::test]
    async fn memory_is_bounded_by_weight() {
        let mut store = MockUrlRepo::new();
        store.expect_insert().returning(|_| Ok(()));
        // Room for ten entries of this size (each of three weight units).
        let cache = CachedUrlRepo::new(
            store,
            CacheSettings {
                max_bytes: 30 * u64::from(BYTES_PER_UNIT),
                ttl: Duration::from_secs(60),
            },
        );
        for i in 0..1000 {
            let code = format!("a{i:07}");
            cache
                .insert(&link(&code, "https://example.com/0123456"))
                .await
                .unwrap();
        }
        cache.cached.links.run_pending_tasks().await;
        assert!(cache.cached.links.weighted_size() <= 30);
        assert!(cache.cached.links.entry_count() <= 10);
    }

    #[async_std::test]
    async fn news_of_a_delete_elsewhere_drops_the_cached_link() {
        let stored = link("abcdefgh", "https://example.com/a");
        let mut store = MockUrlRepo::new();
        let mut answers = vec![Ok(None), Ok(Some(stored.clone()))];
        store
            .expect_find()
            .times(2)
            .returning(move |_| answers.pop().unwrap());
        let cache = CachedUrlRepo::new(store, settings());

        assert!(cache.find(&stored.code).await.unwrap().is_some());
        assert!(cache.find(&stored.code).await.unwrap().is_some(), "cached");
        cache.copies().follow(LinkEvent::Deleted(stored.code)).await;
        assert_eq!(cache.find(&stored.code).await, Ok(None));
    }

    #[async_std::test]
    async fn a_lookup_asking_the_store_when_the_news_comes_does_not_cache_the_link() {
        let stored = link("abcdefgh", "https://example.com/a");
        let (answer, asked) = std::sync::mpsc::channel::<()>();
        let asked = std::sync::Mutex::new(asked);
        let mut store = MockUrlRepo::new();
        let found = stored.clone();
        let mut calls = 0;
        store.expect_find().times(2).returning(move |_| {
            calls += 1;
            if calls == 1 {
                // The first lookup read the link before the delete, and answers after its news.
                asked.lock().unwrap().recv().unwrap();
                Ok(Some(found.clone()))
            } else {
                Ok(None)
            }
        });
        let cache = Arc::new(CachedUrlRepo::new(store, settings()));

        let code = stored.code;
        let lookup = {
            let cache = Arc::clone(&cache);
            async_std::task::spawn(async move { cache.find(&code).await })
        };
        async_std::task::sleep(Duration::from_millis(20)).await;
        cache.copies().follow(LinkEvent::Deleted(code)).await;
        answer.send(()).unwrap();
        assert_eq!(lookup.await, Ok(None));
        assert_eq!(cache.find(&code).await, Ok(None), "asked the store again");
    }

    #[async_std::test]
    async fn a_link_made_again_after_its_delete_is_cached() {
        let stored = link("abcdefgh", "https://example.com/a");
        let mut store = MockUrlRepo::new();
        store.expect_insert().times(1).returning(|_| Ok(()));
        store.expect_find().never();
        let cache = CachedUrlRepo::new(store, settings());

        cache.copies().follow(LinkEvent::Deleted(stored.code)).await;
        cache.insert(&stored).await.unwrap();
        assert_eq!(cache.find(&stored.code).await, Ok(Some(stored)));
    }
}
