use chrono::NaiveDate;

use crate::{CountryCode, DeviceType, TrafficSource};

/// An inclusive range of UTC days, the resolution click stats are kept at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range ends ({to}) before it starts ({from})")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("the range spans {days} days; at most {max} are allowed", max = DayRange::MAX_DAYS)]
    TooLong { days: i64 },
}

impl DayRange {
    /// A bound on one answer's size (a `by_day` entry per day).
    pub const MAX_DAYS: i64 = 366;

    /// # Errors
    /// [`RangeError`] when `to` is before `from` or the range is longer than [`Self::MAX_DAYS`].
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, RangeError> {
        if to < from {
            return Err(RangeError::Reversed { from, to });
        }
        let days = (to - from).num_days() + 1;
        if days > Self::MAX_DAYS {
            return Err(RangeError::TooLong { days });
        }
        Ok(Self { from, to })
    }

    pub fn from(self) -> NaiveDate {
        self.from
    }

    pub fn to(self) -> NaiveDate {
        self.to
    }
}

/// Clicks on one link over a day range, broken down four ways. Each breakdown sums to `total`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClickStats {
    pub total: u64,
    pub by_day: Vec<(NaiveDate, u64)>,
    pub by_country: Vec<(CountryCode, u64)>,
    pub by_device: Vec<(DeviceType, u64)>,
    pub by_source: Vec<(TrafficSource, u64)>,
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[rstest]
    #[case("2026-01-01", "2026-01-01", true)]
    #[case("2026-01-01", "2026-12-31", true)]
    #[case("2024-01-01", "2024-12-31", true)] // a leap year: 366 days
    #[case("2026-01-01", "2027-01-01", true)]
    #[case("2026-01-01", "2027-01-02", false)]
    #[case("2026-01-02", "2026-01-01", false)]
    fn bounds_the_range(#[case] from: &str, #[case] to: &str, #[case] ok: bool) {
        assert_eq!(DayRange::new(day(from), day(to)).is_ok(), ok);
    }
}
