use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::{NoContext, Timestamp, Uuid};

use crate::ShortCode;

/// What the redirect knows about the visitor, as the HTTP request gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
}

impl Visit {
    /// Header values are capped so one crafted request can't make an outsized event.
    pub const MAX_USER_AGENT: usize = 512;
    pub const MAX_REFERER: usize = 2048;

    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>, referer: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|v| truncate(v, Self::MAX_USER_AGENT)),
            referer: referer.map(|v| truncate(v, Self::MAX_REFERER)),
        }
    }
}

fn truncate(value: &str, max: usize) -> String {
    let mut end = value.len().min(max);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

/// One followed link, as published for analytics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickEvent {
    /// UUIDv7: unique, so a redelivered event can be recognised, and time-ordered.
    pub event_id: Uuid,
    pub short_code: ShortCode,
    pub occurred_at: DateTime<Utc>,
    pub visit: Visit,
}

impl ClickEvent {
    pub fn new(short_code: ShortCode, visit: Visit, occurred_at: DateTime<Utc>) -> Self {
        let timestamp = Timestamp::from_unix(
            NoContext,
            // Clicks before 1970 don't happen; clamp rather than wrap if a clock says otherwise.
            u64::try_from(occurred_at.timestamp()).unwrap_or(0),
            occurred_at.timestamp_subsec_nanos(),
        );
        Self {
            event_id: Uuid::new_v7(timestamp),
            short_code,
            occurred_at,
            visit,
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("short", 10, "short")]
    #[case("exactly10!", 10, "exactly10!")]
    #[case("longer than ten", 10, "longer tha")]
    // Never cut inside a character: "é" spans bytes 9 and 10.
    #[case("123456789é", 10, "123456789")]
    fn truncates_on_a_char_boundary(#[case] input: &str, #[case] max: usize, #[case] out: &str) {
        assert_eq!(truncate(input, max), out);
    }

    #[test]
    fn caps_header_values() {
        let long = "x".repeat(10_000);
        let visit = Visit::new(None, Some(&long), Some(&long));
        assert_eq!(visit.user_agent.unwrap().len(), Visit::MAX_USER_AGENT);
        assert_eq!(visit.referer.unwrap().len(), Visit::MAX_REFERER);
    }

    #[test]
    fn event_ids_are_unique_v7_carrying_the_click_time() {
        let code = ShortCode::parse("abcdEF12").unwrap();
        let at = DateTime::from_timestamp(1_700_000_000, 123_000_000).unwrap();
        let a = ClickEvent::new(code, Visit::default(), at);
        let b = ClickEvent::new(code, Visit::default(), at);
        assert_ne!(a.event_id, b.event_id);
        assert_eq!(a.event_id.get_version_num(), 7);
        let (secs, nanos) = a.event_id.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos / 1_000_000), (1_700_000_000, 123));
    }
}
