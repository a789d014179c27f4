use async_trait::async_trait;
use domain::{ClickStats, DayRange, ShortCode};

use crate::ports::StoreError;

/// Reads the click counters and rollups.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait StatsStore: Send + Sync + 'static {
    /// All clicks ever counted for the code; 0 for a code never clicked. Costs the same however
    /// many clicks there are.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn click_count(&self, code: &ShortCode) -> Result<u64, StoreError>;

    /// Clicks on the code within the days of `range`, broken down by day, country, device and
    /// traffic source.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn click_stats(
        &self,
        code: &ShortCode,
        range: DayRange,
    ) -> Result<ClickStats, StoreError>;
}
