//! One decorator for every outbound port: `Resilient<P>` runs each of the port's calls through
//! the [`Guard`] (timeout, breaker), with the port's own rule for what counts as a failure.

use application::ports::{
    AnalyticsError, AnalyticsQuery, ClickPublisher, ClickStore, KeyRecord, KeyStore, LinkPage,
    NewKey, PublishError, RepoError, StatsStore, StoreError, UrlRepo,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    ClickEvent, ClickStats, DayRange, EnrichedClick, KeyHash, KeyId, Link, LinkQuery, ShortCode,
    Visibility,
};

use crate::guard::Guard;

#[derive(Debug, Clone)]
pub struct Resilient<P> {
    inner: P,
    guard: Guard,
}

impl<P> Resilient<P> {
    pub fn new(inner: P, guard: Guard) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl<R: UrlRepo> UrlRepo for Resilient<R> {
    async fn insert(&self, link: &Link) -> Result<(), RepoError> {
        self.guard.run(self.inner.insert(link)).await
    }

    async fn find(&self, code: &ShortCode) -> Result<Option<Link>, RepoError> {
        self.guard.run(self.inner.find(code)).await
    }

    async fn list(&self, query: &LinkQuery, visible: Visibility) -> Result<LinkPage, RepoError> {
        self.guard.run(self.inner.list(query, visible)).await
    }

    async fn delete(&self, code: &ShortCode) -> Result<bool, RepoError> {
        self.guard.run(self.inner.delete(code)).await
    }
}

#[async_trait]
impl<K: KeyStore> KeyStore for Resilient<K> {
    async fn find(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, RepoError> {
        self.guard.run(self.inner.find(hash)).await
    }

    async fn create(&self, key: &NewKey) -> Result<KeyRecord, RepoError> {
        self.guard.run(self.inner.create(key)).await
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, RepoError> {
        self.guard.run(self.inner.list()).await
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<KeyRecord>, RepoError> {
        self.guard.run(self.inner.revoke(id, at)).await
    }
}

impl<P: ClickPublisher> ClickPublisher for Resilient<P> {
    fn publish(&self, event: ClickEvent) -> Result<(), PublishError> {
        self.guard.run_now(|| self.inner.publish(event))
    }
}

#[async_trait]
impl<A: AnalyticsQuery> AnalyticsQuery for Resilient<A> {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError> {
        self.guard.run(self.inner.click_count(code)).await
    }
}

#[async_trait]
impl<S: ClickStore> ClickStore for Resilient<S> {
    async fn store(&self, clicks: &[EnrichedClick]) -> Result<u64, StoreError> {
        self.guard.run(self.inner.store(clicks)).await
    }
}

#[async_trait]
impl<S: StatsStore> StatsStore for Resilient<S> {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, StoreError> {
        self.guard.run(self.inner.click_count(code)).await
    }

    async fn click_stats(
        &self,
        code: &ShortCode,
        range: DayRange,
    ) -> Result<ClickStats, StoreError> {
        self.guard.run(self.inner.click_stats(code, range)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::DateTime;

    use application::ports::{MockAnalyticsQuery, MockClickPublisher, MockClickStore, MockUrlRepo};
    use domain::{LongUrl, Visit};
    use rstest::rstest;

    use super::*;
    use crate::breaker::Breaker;
    use crate::clock::ManualClock;

    /// A guard whose breaker rejects as soon as its drop ratio is positive (draw 0).
    fn guard() -> Guard {
        let breaker = Breaker::new("test", Arc::new(ManualClock::default()), Arc::new(0.0));
        Guard::new(Arc::new(breaker), Some(Duration::from_secs(5)))
    }

    fn code() -> ShortCode {
        ShortCode::parse("abcDEF12").unwrap()
    }

    fn link() -> Link {
        Link {
            code: code(),
            url: LongUrl::parse("https://example.com/").unwrap(),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            owner: None,
        }
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        // The guard's timeout is tokio's.
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[rstest]
    #[case(RepoError::Unavailable("down".into()), true)]
    #[case(RepoError::Unexpected("bug".into()), false)]
    #[case(RepoError::Rejected("invalid byte sequence for encoding \"UTF8\": 0x00".into()), false)]
    #[case(RepoError::CodeTaken, false)]
    fn repo_errors_that_trip_the_breaker(#[case] error: RepoError, #[case] trips: bool) {
        let mut inner = MockUrlRepo::new();
        let answer = error.clone();
        inner
            .expect_insert()
            .returning(move |_| Err(answer.clone()));
        let repo = Resilient::new(inner, guard());

        run(async {
            for _ in 0..6 {
                assert_eq!(repo.insert(&link()).await, Err(error.clone()));
            }
            // Six failures make (6 - 5)/7 > 0; six conflicts make no failure at all.
            let expected = if trips { RepoError::CircuitOpen } else { error };
            assert_eq!(repo.insert(&link()).await, Err(expected));
        });
    }

    #[rstest]
    #[case(StoreError::Unavailable("down".into()), true)]
    #[case(StoreError::Unexpected("bug".into()), false)]
    #[case(StoreError::Rejected("timestamp out of range".into()), false)]
    fn store_errors_that_trip_the_breaker(#[case] error: StoreError, #[case] trips: bool) {
        let mut inner = MockClickStore::new();
        let answer = error.clone();
        inner.expect_store().returning(move |_| Err(answer.clone()));
        let store = Resilient::new(inner, guard());

        run(async {
            for _ in 0..6 {
                assert_eq!(store.store(&[]).await, Err(error.clone()));
            }
            let expected = if trips {
                StoreError::CircuitOpen
            } else {
                error
            };
            assert_eq!(store.store(&[]).await, Err(expected));
        });
    }

    #[test]
    fn not_found_is_an_answer_not_a_failure() {
        let mut inner = MockUrlRepo::new();
        inner.expect_find().times(20).returning(|_| Ok(None));
        let repo = Resilient::new(inner, guard());

        run(async {
            for _ in 0..20 {
                assert_eq!(repo.find(&code()).await, Ok(None));
            }
        });
    }

    #[test]
    fn an_open_breaker_never_calls_the_adapter() {
        let mut inner = MockUrlRepo::new();
        inner
            .expect_find()
            .times(6)
            .returning(|_| Err(RepoError::Unavailable("down".into())));
        let repo = Resilient::new(inner, guard());

        run(async {
            for _ in 0..6 {
                let _ = repo.find(&code()).await;
            }
            // The mock would panic on a seventh call.
            for _ in 0..100 {
                assert_eq!(repo.find(&code()).await, Err(RepoError::CircuitOpen));
            }
        });
    }

    #[rstest]
    #[case(AnalyticsError::Unavailable("Unavailable: down".into()), true)]
    #[case(AnalyticsError::Refused("InvalidArgument: bad code".into()), false)]
    fn analytics_errors_that_trip_the_breaker(#[case] error: AnalyticsError, #[case] trips: bool) {
        let mut inner = MockAnalyticsQuery::new();
        let answer = error.clone();
        inner
            .expect_click_count()
            .returning(move |_| Err(answer.clone()));
        let analytics = Resilient::new(inner, guard());

        run(async {
            for _ in 0..6 {
                assert_eq!(analytics.click_count(&code()).await, Err(error.clone()));
            }
            let expected = if trips {
                AnalyticsError::Unavailable("circuit breaker is open".into())
            } else {
                error
            };
            assert_eq!(analytics.click_count(&code()).await, Err(expected));
        });
    }

    #[test]
    fn a_slow_call_times_out_and_counts_as_a_failure() {
        struct Slow;
        #[async_trait]
        impl AnalyticsQuery for Slow {
            async fn click_count(&self, _: &ShortCode) -> Result<u64, AnalyticsError> {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(1)
            }
        }
        let breaker = Breaker::new("slow", Arc::new(ManualClock::default()), Arc::new(0.0));
        let analytics = Resilient::new(
            Slow,
            Guard::new(Arc::new(breaker), Some(Duration::from_millis(10))),
        );

        run(async {
            for _ in 0..6 {
                assert_eq!(
                    analytics.click_count(&code()).await,
                    Err(AnalyticsError::Unavailable("no answer within 10 ms".into()))
                );
            }
            assert_eq!(
                analytics.click_count(&code()).await,
                Err(AnalyticsError::Unavailable(
                    "circuit breaker is open".into()
                ))
            );
        });
    }

    #[test]
    fn a_publisher_that_keeps_refusing_is_not_asked_again() {
        let mut inner = MockClickPublisher::new();
        inner
            .expect_publish()
            .times(6)
            .returning(|_| Err(PublishError::Rejected("queue full".into())));
        let publisher = Resilient::new(inner, guard());
        let event = || {
            ClickEvent::new(
                code(),
                Visit::default(),
                DateTime::from_timestamp(0, 0).unwrap(),
            )
        };

        for _ in 0..6 {
            assert!(publisher.publish(event()).is_err());
        }
        assert_eq!(
            publisher.publish(event()),
            Err(PublishError::Rejected("circuit breaker is open".into()))
        );
    }
}
