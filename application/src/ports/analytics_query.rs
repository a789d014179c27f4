use async_trait::async_trait;
use domain::ShortCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyticsError {
    /// Analytics is down, overloaded, too slow, or failing: its breaker counts these.
    #[error("analytics unavailable: {0}")]
    Unavailable(String),
    /// Analytics answered, with a refusal that says nothing about its health (a bad argument).
    #[error("analytics refused the question: {0}")]
    Refused(String),
}

/// Asks the analytics service about clicks.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait AnalyticsQuery: Send + Sync + 'static {
    /// Clicks counted for the code so far; 0 for a code never clicked.
    ///
    /// # Errors
    /// [`AnalyticsError::Unavailable`] when analytics can't answer (down, slow, overloaded),
    /// [`AnalyticsError::Refused`] when it won't.
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError>;
}
