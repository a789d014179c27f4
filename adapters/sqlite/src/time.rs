use chrono::{DateTime, NaiveDate, Utc};

/// Times are stored as microseconds since the Unix epoch: PostgreSQL's resolution, and an
/// integer orders as the time does.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// Days are stored as `YYYY-MM-DD`, which orders as the day does.
pub(crate) fn to_day(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub(crate) fn from_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}
