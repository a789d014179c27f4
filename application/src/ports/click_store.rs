use async_trait::async_trait;
use domain::EnrichedClick;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store can't be reached or didn't answer in time; worth retrying later.
    #[error("click store unavailable: {0}")]
    Unavailable(String),
    /// Not even tried: the store has been failing, and its circuit breaker is giving it room
    /// to recover. Worth retrying later.
    #[error("click store circuit breaker is open")]
    CircuitOpen,
    /// Anything else the store reported.
    #[error("click store failed: {0}")]
    Unexpected(String),
}

/// Where enriched clicks are kept, with the counters that make counting cheap.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait ClickStore: Send + Sync + 'static {
    /// Stores the clicks and updates their counters, all or nothing. A click whose `event_id`
    /// is already stored is skipped, so storing the same batch twice counts it once.
    ///
    /// Returns how many clicks were new.
    ///
    /// # Errors
    /// [`StoreError`]; then nothing of the batch is stored.
    async fn store(&self, clicks: &[EnrichedClick]) -> Result<u64, StoreError>;
}
