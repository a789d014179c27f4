use domain::{ClickEvent, EnrichedClick};

use crate::ports::{ClickStore, GeoLocator, StoreError};

/// What became of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestReport {
    pub received: u64,
    /// New clicks; the rest were already stored (redelivered events).
    pub stored: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Enriches a batch of click events and stores it in one go. Idempotent: a batch that is
/// delivered again (after a crash before its offsets were committed) adds nothing.
///
/// # Errors
/// [`IngestError::Store`] when the batch could not be stored; then none of it is, and the
/// caller must not acknowledge it.
pub async fn ingest_clicks(
    store: &impl ClickStore,
    geo: &impl GeoLocator,
    events: Vec<ClickEvent>,
) -> Result<IngestReport, IngestError> {
    let received = events.len() as u64;
    if events.is_empty() {
        return Ok(IngestReport::default());
    }
    let clicks: Vec<EnrichedClick> = events
        .into_iter()
        .map(|event| {
            let country = event.visit.ip.and_then(|ip| geo.country(ip));
            EnrichedClick::new(event, country)
        })
        .collect();
    let stored = store.store(&clicks).await?;
    Ok(IngestReport { received, stored })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use chrono::DateTime;
    use domain::{CountryCode, DeviceType, ShortCode, TrafficSource, Visit};
    use futures::executor::block_on;

    use super::*;
    use crate::ports::{MockClickStore, MockGeoLocator};

    fn event(ip: Option<&str>, ua: &str, referer: Option<&str>) -> ClickEvent {
        ClickEvent::new(
            ShortCode::parse("abcDEF12").unwrap(),
            Visit::new(ip.map(|ip| ip.parse().unwrap()), Some(ua), referer),
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        )
    }

    fn geo() -> MockGeoLocator {
        let mut geo = MockGeoLocator::new();
        geo.expect_country().returning(|ip: IpAddr| {
            (ip == "81.2.69.160".parse::<IpAddr>().unwrap())
                .then(|| CountryCode::parse("GB").unwrap())
        });
        geo
    }

    #[test]
    fn enriches_and_stores_the_batch_at_once() {
        let events = vec![
            event(
                Some("81.2.69.160"),
                "Mozilla/5.0 (iPhone; Mobile)",
                Some("https://t.co/x"),
            ),
            event(Some("10.0.0.1"), "curl/8", None),
            event(
                None,
                "Mozilla/5.0 (Windows NT 10.0)",
                Some("https://www.google.com/"),
            ),
        ];
        let mut store = MockClickStore::new();
        store
            .expect_store()
            .withf(|clicks| {
                let seen: Vec<_> = clicks
                    .iter()
                    .map(|c| (c.country.as_str().to_owned(), c.device, c.source))
                    .collect();
                seen == [
                    ("GB".to_owned(), DeviceType::Mobile, TrafficSource::Social),
                    ("XX".to_owned(), DeviceType::Bot, TrafficSource::Direct),
                    ("XX".to_owned(), DeviceType::Desktop, TrafficSource::Search),
                ]
            })
            .once()
            .returning(|clicks| Ok(clicks.len() as u64));

        let report = block_on(ingest_clicks(&store, &geo(), events)).unwrap();

        assert_eq!(
            report,
            IngestReport {
                received: 3,
                stored: 3
            }
        );
    }

    #[test]
    fn reports_redelivered_clicks_as_not_stored() {
        let mut store = MockClickStore::new();
        store.expect_store().once().returning(|_| Ok(0));

        let report = block_on(ingest_clicks(&store, &geo(), vec![event(None, "x", None)])).unwrap();

        assert_eq!(
            report,
            IngestReport {
                received: 1,
                stored: 0
            }
        );
    }

    #[test]
    fn a_store_failure_fails_the_batch() {
        let mut store = MockClickStore::new();
        store
            .expect_store()
            .once()
            .returning(|_| Err(StoreError::Unavailable("down".into())));

        let result = block_on(ingest_clicks(&store, &geo(), vec![event(None, "x", None)]));

        assert_eq!(
            result,
            Err(IngestError::Store(StoreError::Unavailable("down".into())))
        );
    }

    #[test]
    fn an_empty_batch_touches_nothing() {
        let mut store = MockClickStore::new();
        store.expect_store().never();

        let report = block_on(ingest_clicks(&store, &geo(), vec![])).unwrap();

        assert_eq!(report, IngestReport::default());
    }
}
