//! Stand-ins for the Kafka publisher and the analytics gRPC client, which arrive with issue
//! "2 of 6" and replace these. Until then clicks are only logged and `total_clicks` is null.

use application::ports::{AnalyticsError, AnalyticsQuery, ClickPublisher, PublishError};
use async_trait::async_trait;
use domain::{ClickEvent, ShortCode};

/// Logs each click at debug level and drops it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoggingClickPublisher;

impl ClickPublisher for LoggingClickPublisher {
    fn publish(&self, event: ClickEvent) -> Result<(), PublishError> {
        tracing::debug!(
            event_id = %event.event_id,
            short_code = %event.short_code,
            "click (not published: no Kafka publisher is wired yet)"
        );
        Ok(())
    }
}

/// Answers every question with "unavailable".
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnavailableAnalytics;

#[async_trait]
impl AnalyticsQuery for UnavailableAnalytics {
    async fn click_count(&self, _code: &ShortCode) -> Result<u64, AnalyticsError> {
        Err(AnalyticsError::Unavailable(
            "no analytics client is wired yet".into(),
        ))
    }
}
