use async_trait::async_trait;
use domain::{ClickEvent, ClickStats, DayRange, ShortCode};

use crate::ports::{
    AnalyticsError, AnalyticsQuery, ClickStore, GeoLocator, StatsStore, StoreError,
};
use crate::use_cases::{self, IngestError, IngestReport, StatsError};

/// The driving port of analytics-consumer: a batch of click events to count.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait IngestClicks: Send + Sync + 'static {
    /// See [`use_cases::ingest_clicks`].
    async fn ingest(&self, events: Vec<ClickEvent>) -> Result<IngestReport, IngestError>;
}

/// The driving port of analytics-rpc: questions about clicks.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait ClickAnalytics: Send + Sync + 'static {
    /// See [`use_cases::click_count`].
    async fn click_count(&self, code: ShortCode) -> Result<u64, StatsError>;
    /// See [`use_cases::click_stats`].
    async fn click_stats(&self, code: ShortCode, range: DayRange)
    -> Result<ClickStats, StatsError>;
}

/// Ingestion bound to a click store and a GeoIP locator.
#[derive(Debug, Clone)]
pub struct IngestService<S, G> {
    store: S,
    geo: G,
}

impl<S, G> IngestService<S, G> {
    pub fn new(store: S, geo: G) -> Self {
        Self { store, geo }
    }
}

#[async_trait]
impl<S: ClickStore, G: GeoLocator> IngestClicks for IngestService<S, G> {
    async fn ingest(&self, events: Vec<ClickEvent>) -> Result<IngestReport, IngestError> {
        use_cases::ingest_clicks(&self.store, &self.geo, events).await
    }
}

/// The analytics questions bound to a stats store.
#[derive(Debug, Clone)]
pub struct AnalyticsService<S> {
    stats: S,
}

impl<S> AnalyticsService<S> {
    pub fn new(stats: S) -> Self {
        Self { stats }
    }
}

#[async_trait]
impl<S: StatsStore> ClickAnalytics for AnalyticsService<S> {
    async fn click_count(&self, code: ShortCode) -> Result<u64, StatsError> {
        use_cases::click_count(&self.stats, code).await
    }

    async fn click_stats(
        &self,
        code: ShortCode,
        range: DayRange,
    ) -> Result<ClickStats, StatsError> {
        use_cases::click_stats(&self.stats, code, range).await
    }
}

/// In one process (the embedded shortener), the link service's questions go to the analytics use
/// cases directly: the answers analytics-rpc gives over gRPC, with no network between.
#[async_trait]
impl<S: StatsStore> AnalyticsQuery for AnalyticsService<S> {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError> {
        use_cases::click_count(&self.stats, *code)
            .await
            .map_err(|StatsError::Store(e)| match e {
                // As analytics-rpc would: INVALID_ARGUMENT, which says nothing of its health.
                StoreError::Rejected(reason) => AnalyticsError::Refused(reason),
                other => AnalyticsError::Unavailable(other.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::ports::MockStatsStore;

    fn answering(answer: Result<u64, StoreError>) -> AnalyticsService<MockStatsStore> {
        let mut stats = MockStatsStore::new();
        stats.expect_click_count().return_once(move |_| answer);
        AnalyticsService::new(stats)
    }

    fn ask(service: &AnalyticsService<MockStatsStore>) -> Result<u64, AnalyticsError> {
        let code = ShortCode::parse("abcDEF12").unwrap();
        block_on(AnalyticsQuery::click_count(service, &code))
    }

    #[test]
    fn the_link_service_is_answered_by_the_stats_store() {
        assert_eq!(ask(&answering(Ok(42))), Ok(42));
    }

    #[test]
    fn a_store_that_is_down_is_analytics_unavailable_and_a_refusal_is_a_refusal() {
        assert_eq!(
            ask(&answering(Err(StoreError::CircuitOpen))),
            Err(AnalyticsError::Unavailable(
                "click store circuit breaker is open".into()
            ))
        );
        assert_eq!(
            ask(&answering(Err(StoreError::Rejected("bad".into())))),
            Err(AnalyticsError::Refused("bad".into()))
        );
    }
}
