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
    /// The store refused what it was given because of its content (a value it can't hold):
    /// the input's fault, not the store's. Storing the same clicks again fails the same way.
    #[error("click store refused the input: {0}")]
    Rejected(String),
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
