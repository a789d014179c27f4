use async_trait::async_trait;
use domain::{ClickEvent, ClickStats, DayRange, ShortCode};

use crate::ports::{ClickStore, GeoLocator, StatsStore};
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
