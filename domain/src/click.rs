use std::net::IpAddr;

use chrono::{DateTime, Datelike, Utc};
use uuid::{NoContext, Timestamp, Uuid};

use crate::{CodeError, ShortCode};

/// What the redirect knows about the visitor, as the HTTP request gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
}

/// Why a visit read back from outside (the click topic) is not one a redirect could have made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("{field} is {actual} bytes long; a redirect records at most {max}")]
    TooLong {
        field: &'static str,
        actual: usize,
        max: usize,
    },
    #[error("{field} contains a control character, which a redirect never records")]
    ControlCharacter { field: &'static str },
}

impl Visit {
    /// Header values are capped so one crafted request can't make an outsized event.
    pub const MAX_USER_AGENT: usize = 512;
    pub const MAX_REFERER: usize = 2048;

    /// The visit as a redirect records it, from whatever the request carried: each control
    /// character becomes U+FFFD (a store may refuse them, NUL above all, and they mean nothing
    /// in a user agent or a referer), then each value is capped.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>, referer: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|v| clean(v, Self::MAX_USER_AGENT)),
            referer: referer.map(|v| clean(v, Self::MAX_REFERER)),
        }
    }

    /// A visit read back from the click topic, which [`Visit::new`] made: values it would never
    /// have produced mean the event was not published by a redirect (forged or corrupted), and
    /// are refused rather than cleaned.
    ///
    /// # Errors
    /// [`VisitError`] naming the field.
    pub fn parse(
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
        referer: Option<&str>,
    ) -> Result<Self, VisitError> {
        let check = |field, value: Option<&str>, max| -> Result<Option<String>, VisitError> {
            let Some(value) = value else { return Ok(None) };
            if value.len() > max {
                return Err(VisitError::TooLong {
                    field,
                    actual: value.len(),
                    max,
                });
            }
            if value.chars().any(char::is_control) {
                return Err(VisitError::ControlCharacter { field });
            }
            Ok(Some(value.to_owned()))
        };
        Ok(Self {
            ip,
            user_agent: check("user_agent", user_agent, Self::MAX_USER_AGENT)?,
            referer: check("referer", referer, Self::MAX_REFERER)?,
        })
    }
}

fn clean(value: &str, max: usize) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_control() {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect();
    truncate(cleaned, max)
}

fn truncate(mut value: String, max: usize) -> String {
    let mut end = value.len().min(max);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.truncate(end);
    value
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

/// Why a click event read back from outside is not one a redirect could have published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("short_code: {0}")]
    ShortCode(#[from] CodeError),
    #[error("occurred_at {0} is outside the years {first} to {last}", first = ClickEvent::YEARS.start(), last = ClickEvent::YEARS.end())]
    OccurredAt(DateTime<Utc>),
    #[error(transparent)]
    Visit(#[from] VisitError),
}

impl ClickEvent {
    /// The years a click can carry. Nothing is clicked before the Unix epoch (the event id's
    /// clock starts there), and every store keeps at least four-digit years.
    pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

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

    /// A click event as it arrives from outside (the click topic), held to the rules a redirect
    /// follows when it publishes one.
    ///
    /// # Errors
    /// [`EventError`], naming the first field that breaks them.
    pub fn parse(
        event_id: Uuid,
        short_code: &str,
        occurred_at: DateTime<Utc>,
        visit: Result<Visit, VisitError>,
    ) -> Result<Self, EventError> {
        let short_code = ShortCode::parse(short_code)?;
        if !Self::YEARS.contains(&occurred_at.year()) {
            return Err(EventError::OccurredAt(occurred_at));
        }
        Ok(Self {
            event_id,
            short_code,
            occurred_at,
            visit: visit?,
        })
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
        assert_eq!(truncate(input.to_owned(), max), out);
    }

    #[rstest]
    #[case("curl/8\0", "curl/8\u{fffd}")]
    #[case("a\tb\r\nc", "a\u{fffd}b\u{fffd}\u{fffd}c")]
    #[case("\u{7f}\u{85}", "\u{fffd}\u{fffd}")]
    #[case(
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
    )]
    #[case("bücher", "bücher")]
    fn a_redirect_cleans_control_characters(#[case] header: &str, #[case] recorded: &str) {
        let visit = Visit::new(None, Some(header), Some(header));
        assert_eq!(visit.user_agent.as_deref(), Some(recorded));
        assert_eq!(visit.referer.as_deref(), Some(recorded));
        // What a redirect records reads back as it was.
        assert_eq!(
            Visit::parse(None, Some(recorded), Some(recorded)),
            Ok(visit)
        );
    }

    #[test]
    fn cleaning_never_makes_a_value_longer_than_its_cap() {
        // Each NUL (1 byte) becomes U+FFFD (3 bytes).
        let visit = Visit::new(None, Some(&"\0".repeat(1000)), None);
        let agent = visit.user_agent.unwrap();
        assert!(agent.len() <= Visit::MAX_USER_AGENT, "{}", agent.len());
        assert_eq!(agent.len(), 510);
    }

    #[rstest]
    #[case(Some("a\0b".into()), None, VisitError::ControlCharacter { field: "user_agent" })]
    #[case(None, Some("https://a.example/\n".into()), VisitError::ControlCharacter { field: "referer" })]
    #[case(Some("x".repeat(513)), None, VisitError::TooLong { field: "user_agent", actual: 513, max: 512 })]
    #[case(None, Some("x".repeat(2049)), VisitError::TooLong { field: "referer", actual: 2049, max: 2048 })]
    fn a_visit_from_outside_is_held_to_the_rules(
        #[case] user_agent: Option<String>,
        #[case] referer: Option<String>,
        #[case] error: VisitError,
    ) {
        assert_eq!(
            Visit::parse(None, user_agent.as_deref(), referer.as_deref()),
            Err(error)
        );
    }

    #[rstest]
    #[case("1970-01-01T00:00:00Z", true)]
    #[case("2026-11-30T12:00:00.123456Z", true)]
    #[case("9999-12-31T23:59:59.999999Z", true)]
    #[case("1969-12-31T23:59:59Z", false)]
    #[case("+10000-01-01T00:00:00Z", false)]
    #[case("-0001-01-01T00:00:00Z", false)]
    fn an_event_from_outside_happened_in_a_plausible_year(#[case] at: &str, #[case] ok: bool) {
        let at: DateTime<Utc> = at.parse().unwrap();
        let parsed = ClickEvent::parse(Uuid::now_v7(), "abcdEF12", at, Ok(Visit::default()));
        assert_eq!(parsed.is_ok(), ok, "{parsed:?}");
        if !ok {
            assert_eq!(parsed, Err(EventError::OccurredAt(at)));
        }
    }

    #[test]
    fn an_event_from_outside_has_a_short_code() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(
            ClickEvent::parse(Uuid::now_v7(), "abc", at, Ok(Visit::default())),
            Err(EventError::ShortCode(CodeError::WrongLength {
                expected: 8,
                actual: 3
            }))
        );
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
