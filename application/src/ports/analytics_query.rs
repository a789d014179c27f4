use async_trait::async_trait;
use domain::ShortCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyticsError {
    #[error("analytics unavailable: {0}")]
    Unavailable(String),
}

/// Asks the analytics service about clicks.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait AnalyticsQuery: Send + Sync + 'static {
    /// Clicks counted for the code so far; 0 for a code never clicked.
    ///
    /// # Errors
    /// [`AnalyticsError::Unavailable`] when analytics can't answer (down, slow, overloaded).
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError>;
}
