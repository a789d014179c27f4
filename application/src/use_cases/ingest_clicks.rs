use domain::{ClickEvent, EnrichedClick};

use crate::ports::{ClickStore, GeoLocator, StoreError};

/// What became of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngestReport {
    pub received: u64,
    /// New clicks; the rest were already stored (redelivered events) or rejected.
    pub stored: u64,
    /// The events the store refused for their content, oldest first. Everything else in the
    /// batch is stored.
    pub rejected: Vec<RejectedClick>,
}

/// One event the store refused, and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedClick {
    /// Its position in the batch given to [`ingest_clicks`].
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Enriches a batch of click events and stores it, in one go when it can. Idempotent: a batch
/// that is delivered again (after a crash before its offsets were committed) adds nothing.
///
/// One poison event must not hold up the others: when the store refuses the batch for its
/// content, the batch is split in halves, each stored on its own, down to the single events
/// it refuses. They come back in [`IngestReport::rejected`]; the rest is stored. With one bad
/// event among n, that costs about 2 log2(n) more calls to the store.
///
/// # Errors
/// [`IngestError::Store`] when the store fails for any other reason (it is unavailable, or
/// broken). Parts of the batch may be stored by then; storing the whole batch again counts
/// them zero times more, so the caller retries it and must not acknowledge it before.
pub async fn ingest_clicks(
    store: &impl ClickStore,
    geo: &impl GeoLocator,
    events: Vec<ClickEvent>,
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport {
        received: events.len() as u64,
        ..IngestReport::default()
    };
    let clicks: Vec<EnrichedClick> = events
        .into_iter()
        .map(|event| {
            let country = event.visit.ip.and_then(|ip| geo.country(ip));
            EnrichedClick::new(event, country)
        })
        .collect();
    // Ranges of the batch still to store; the first half of a split goes first, so rejected
    // events are found in order.
    let mut pending = Vec::with_capacity(16);
    pending.push(0..clicks.len());
    while let Some(range) = pending.pop() {
        if range.is_empty() {
            continue;
        }
        match store.store(&clicks[range.clone()]).await {
            Ok(stored) => report.stored += stored,
            Err(StoreError::Rejected(reason)) if range.len() == 1 => {
                report.rejected.push(RejectedClick {
                    index: range.start,
                    reason,
                });
            }
            Err(StoreError::Rejected(_)) => {
                let middle = range.start + range.len() / 2;
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
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
                stored: 3,
                rejected: vec![],
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
                stored: 0,
                rejected: vec![],
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

    /// A store that refuses any batch holding a click whose user agent is "poison", and
    /// otherwise stores every click as new; it records the size of each batch it was given.
    struct PoisonAverse {
        calls: std::sync::Mutex<Vec<usize>>,
    }

    #[async_trait::async_trait]
    impl ClickStore for PoisonAverse {
        async fn store(&self, clicks: &[EnrichedClick]) -> Result<u64, StoreError> {
            self.calls.lock().unwrap().push(clicks.len());
            if clicks
                .iter()
                .any(|c| c.event.visit.user_agent.as_deref() == Some("poison"))
            {
                return Err(StoreError::Rejected(
                    "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
                ));
            }
            Ok(clicks.len() as u64)
        }
    }

    fn batch(poisoned: &[usize], len: usize) -> Vec<ClickEvent> {
        (0..len)
            .map(|i| {
                event(
                    None,
                    if poisoned.contains(&i) {
                        "poison"
                    } else {
                        "curl/8"
                    },
                    None,
                )
            })
            .collect()
    }

    #[rstest::rstest]
    #[case::one_in_the_middle(&[500], 1000)]
    #[case::first_and_last(&[0, 999], 1000)]
    #[case::neighbours(&[10, 11], 64)]
    #[case::a_batch_of_one(&[0], 1)]
    #[case::all_of_them(&[0, 1, 2, 3], 4)]
    fn a_poison_event_is_set_aside_and_the_rest_stored(
        #[case] poisoned: &[usize],
        #[case] len: usize,
    ) {
        let store = PoisonAverse {
            calls: std::sync::Mutex::default(),
        };

        let report = block_on(ingest_clicks(&store, &geo(), batch(poisoned, len))).unwrap();

        assert_eq!(report.received, len as u64);
        assert_eq!(report.stored, (len - poisoned.len()) as u64);
        let rejected: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
        assert_eq!(rejected, poisoned);
        assert!(report.rejected[0].reason.contains("0x00"));
        // Halving finds one bad event among n in about 2 log2(n) calls, not n.
        let calls = store.calls.lock().unwrap().len();
        if poisoned.len() == 1 {
            assert!(calls <= 2 * (len.ilog2() as usize + 1) + 1, "{calls} calls");
        }
    }

    #[test]
    fn a_clean_batch_is_stored_in_one_call() {
        let store = PoisonAverse {
            calls: std::sync::Mutex::default(),
        };

        block_on(ingest_clicks(&store, &geo(), batch(&[], 2000))).unwrap();

        assert_eq!(*store.calls.lock().unwrap(), [2000]);
    }

    #[rstest::rstest]
    #[case(StoreError::Unavailable("down".into()))]
    #[case(StoreError::CircuitOpen)]
    #[case(StoreError::Unexpected("relation \"clicks\" does not exist".into()))]
    fn a_failing_store_fails_the_batch_rather_than_splitting_it(#[case] error: StoreError) {
        let mut store = MockClickStore::new();
        let answer = error.clone();
        store
            .expect_store()
            .once()
            .returning(move |_| Err(answer.clone()));

        let result = block_on(ingest_clicks(&store, &geo(), batch(&[], 100)));

        assert_eq!(result, Err(IngestError::Store(error)));
    }
}
