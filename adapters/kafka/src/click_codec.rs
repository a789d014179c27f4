//! The click event as it travels on the topic: JSON, readable with any Kafka tool.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use domain::{ClickEvent, Visit};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Serialize)]
struct Outgoing<'a> {
    event_id: Uuid,
    short_code: &'a str,
    occurred_at: DateTime<Utc>,
    ip: Option<IpAddr>,
    user_agent: Option<&'a str>,
    referer: Option<&'a str>,
}

#[derive(Deserialize)]
struct Incoming {
    event_id: Uuid,
    short_code: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    ip: Option<IpAddr>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    referer: Option<String>,
}

/// Why a message is not a click event.
#[derive(Debug, thiserror::Error)]
#[error("not a click event: {0}")]
pub struct DecodeError(String);

/// The event's value on the topic. Its key is the short code, so one link's clicks stay in order
/// on one partition.
pub fn encode(event: &ClickEvent) -> Vec<u8> {
    let outgoing = Outgoing {
        event_id: event.event_id,
        short_code: event.short_code.as_str(),
        occurred_at: event.occurred_at,
        ip: event.visit.ip,
        user_agent: event.visit.user_agent.as_deref(),
        referer: event.visit.referer.as_deref(),
    };
    // One allocation per click: the fixed fields take at most 201 bytes, the visitor's headers
    // the rest (JSON escaping may add a little, which grows the buffer once).
    let variable = outgoing.user_agent.map_or(0, str::len) + outgoing.referer.map_or(0, str::len);
    let mut value = Vec::with_capacity(256 + variable);
    // Plain fields only: serialisation can't fail, and an empty value would be a poison
    // message the consumer skips, not a crash.
    match serde_json::to_writer(&mut value, &outgoing) {
        Ok(()) => value,
        Err(_) => Vec::new(),
    }
}

/// # Errors
/// [`DecodeError`] for anything that isn't a click event a redirect could have published: bad
/// JSON, a missing field, a malformed short code, a time out of range, a control character in
/// a header (see [`ClickEvent::parse`]). The consumer dead-letters such messages.
pub fn decode(payload: &[u8]) -> Result<ClickEvent, DecodeError> {
    let incoming: Incoming =
        serde_json::from_slice(payload).map_err(|e| DecodeError(e.to_string()))?;
    let visit = Visit::parse(
        incoming.ip,
        incoming.user_agent.as_deref(),
        incoming.referer.as_deref(),
    );
    ClickEvent::parse(
        incoming.event_id,
        &incoming.short_code,
        incoming.occurred_at,
        visit,
    )
    .map_err(|e| DecodeError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use domain::ShortCode;
    use rstest::rstest;

    use super::*;

    #[test]
    fn round_trips() {
        let event = ClickEvent::new(
            ShortCode::parse("abcDEF12").unwrap(),
            Visit::new(Some("2001:db8::1".parse().unwrap()), Some("curl/8"), None),
            DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        );
        assert_eq!(decode(&encode(&event)).unwrap(), event);
    }

    #[test]
    fn the_longest_fixed_fields_fit_the_first_allocation() {
        let (agent, referer) = ("Mozilla/5.0 (X11; Linux x86_64)", "https://example.com/");
        let event = ClickEvent::new(
            ShortCode::parse("abcDEF12").unwrap(),
            Visit::new(
                Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()),
                Some(agent),
                Some(referer),
            ),
            DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap(),
        );
        let value = encode(&event);
        assert!(value.len() <= 256 + agent.len() + referer.len());
        assert_eq!(value.capacity(), 256 + agent.len() + referer.len());
    }

    #[rstest]
    #[case(b"".as_slice())]
    #[case(b"not json".as_slice())]
    #[case(br#"{"event_id":"01890a5d-ac96-774b-bcce-b302099a8057","short_code":"abc","occurred_at":"2026-01-01T00:00:00Z"}"#.as_slice())]
    #[case(br#"{"event_id":"nope","short_code":"abcDEF12","occurred_at":"2026-01-01T00:00:00Z"}"#.as_slice())]
    #[case(br#"{"short_code":"abcDEF12","occurred_at":"2026-01-01T00:00:00Z"}"#.as_slice())]
    #[case(br#"{"event_id":"01890a5d-ac96-774b-bcce-b302099a8057","short_code":"abcDEF12","occurred_at":"yesterday"}"#.as_slice())]
    fn rejects_what_is_not_a_click(#[case] payload: &[u8]) {
        assert!(decode(payload).is_err());
    }

    #[rstest]
    #[case(
        r#""user_agent":"curl/8\u0000""#,
        "user_agent contains a control character"
    )]
    #[case(
        r#""referer":"https://a.example/\n""#,
        "referer contains a control character"
    )]
    #[case(r#""user_agent":"\u0085""#, "user_agent contains a control character")]
    #[case(
        r#""occurred_at":"+20000-01-01T00:00:00Z""#,
        "occurred_at +20000-01-01 00:00:00 UTC is outside the years 1970 to 9999"
    )]
    #[case(
        r#""occurred_at":"1900-01-01T00:00:00Z""#,
        "occurred_at 1900-01-01 00:00:00 UTC is outside the years"
    )]
    fn rejects_what_a_redirect_would_never_publish(#[case] field: &str, #[case] reason: &str) {
        let mut event = serde_json::json!({
            "event_id": "01890a5d-ac96-774b-bcce-b302099a8057",
            "short_code": "abcDEF12",
            "occurred_at": "2026-01-01T00:00:00Z",
        });
        let field: serde_json::Value = serde_json::from_str(&format!("{{{field}}}")).unwrap();
        for (key, value) in field.as_object().unwrap() {
            event[key] = value.clone();
        }
        let error = decode(event.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.contains(reason), "{error}");
    }

    #[test]
    fn a_user_agent_a_redirect_cleaned_reads_back() {
        let event = ClickEvent::new(
            ShortCode::parse("abcDEF12").unwrap(),
            Visit::new(None, Some("curl/8\0"), Some("https://a.example/\r\n")),
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        );
        assert_eq!(decode(&encode(&event)).unwrap(), event);
    }
}
