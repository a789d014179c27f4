use domain::{ClickStats, DayRange, ShortCode};

use crate::ports::{StatsStore, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// All clicks on a code so far. A code never clicked (or never created) has 0: no clicks is
/// an answer, not an error.
///
/// # Errors
/// [`StatsError::Store`] when the store fails.
pub async fn click_count(stats: &impl StatsStore, code: ShortCode) -> Result<u64, StatsError> {
    Ok(stats.click_count(&code).await?)
}

/// Clicks on a code within a day range, broken down four ways.
///
/// # Errors
/// [`StatsError::Store`] when the store fails.
pub async fn click_stats(
    stats: &impl StatsStore,
    code: ShortCode,
    range: DayRange,
) -> Result<ClickStats, StatsError> {
    Ok(stats.click_stats(&code, range).await?)
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::ports::MockStatsStore;

    #[test]
    fn counts_come_from_the_store() {
        let code = ShortCode::parse("abcDEF12").unwrap();
        let mut stats = MockStatsStore::new();
        stats
            .expect_click_count()
            .withf(move |c| *c == code)
            .once()
            .returning(|_| Ok(7));

        assert_eq!(block_on(click_count(&stats, code)), Ok(7));
    }

    #[test]
    fn store_failures_are_reported() {
        let mut stats = MockStatsStore::new();
        stats
            .expect_click_count()
            .once()
            .returning(|_| Err(StoreError::Unavailable("down".into())));

        let result = block_on(click_count(&stats, ShortCode::parse("abcDEF12").unwrap()));

        assert_eq!(
            result,
            Err(StatsError::Store(StoreError::Unavailable("down".into())))
        );
    }
}
