//! The embedded shortener's click path, in process. A redirect puts its click on a bounded queue
//! ([`QueuedClicks`], the `ClickPublisher`) and returns at once; a task ([`ClickDrain`]) hands
//! the queue to `IngestClicks` in batches, the same use case analytics-consumer drives from
//! Kafka. What a crash loses is what was still queued, at most the queue's capacity.
//!
//! Metrics under the Kafka producer's names, so one dashboard reads both compositions:
//! `click_events_delivered_total`, `_failed_total`, `_rejected_total` and
//! `click_events_queue_depth`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use application::IngestClicks;
use application::ports::{ClickPublisher, PublishError};
use async_channel::{Receiver, Sender, TryRecvError, TrySendError};
use async_io::Timer;
use domain::ClickEvent;
use futures::future::{Either, select};
use opentelemetry::metrics::Counter;

/// How clicks queue and how they are drained.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// Clicks the queue holds; a click beyond it is dropped and counted, never waited for.
    pub capacity: usize,
    /// A batch is stored when it has this many clicks...
    pub batch_size: usize,
    /// ...or when its first click has waited this long.
    pub batch_interval: Duration,
}

/// A queue and its two ends.
pub fn click_queue(settings: QueueSettings) -> (QueuedClicks, ClickDrain) {
    let (sender, receiver) = async_channel::bounded(settings.capacity.max(1));
    let counts = Arc::new(Counts::new());
    let in_hand = Arc::new(AtomicUsize::new(0));
    observe_depth(&sender, &in_hand);
    let queued = QueuedClicks {
        sender,
        in_hand: Arc::clone(&in_hand),
        counts: Arc::clone(&counts),
    };
    let drain = ClickDrain {
        receiver,
        batch_size: settings.batch_size.max(1),
        batch_interval: settings.batch_interval,
        in_hand,
        counts,
    };
    (queued, drain)
}

/// The publishing end.
#[derive(Debug, Clone)]
pub struct QueuedClicks {
    sender: Sender<ClickEvent>,
    in_hand: Arc<AtomicUsize>,
    counts: Arc<Counts>,
}

impl QueuedClicks {
    /// Takes no more clicks; the drain stores what is queued and then ends.
    pub fn close(&self) {
        self.sender.close();
    }

    /// Clicks not stored yet: queued, or in the batch being stored.
    pub fn pending(&self) -> usize {
        self.sender.len() + self.in_hand.load(Ordering::Relaxed)
    }
}

impl ClickPublisher for QueuedClicks {
    fn publish(&self, event: ClickEvent) -> Result<(), PublishError> {
        self.sender.try_send(event).map_err(|e| {
            self.counts.rejected.add(1, &[]);
            PublishError::Rejected(match e {
                TrySendError::Full(_) => "the click queue is full".into(),
                TrySendError::Closed(_) => "the click queue is closed".into(),
            })
        })
    }
}

/// The draining end.
#[derive(Debug)]
pub struct ClickDrain {
    receiver: Receiver<ClickEvent>,
    batch_size: usize,
    batch_interval: Duration,
    in_hand: Arc<AtomicUsize>,
    counts: Arc<Counts>,
}

/// Between tries of a batch the store failed, doubling from the first to the last.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

impl ClickDrain {
    /// Hands the queue to `ingest` in batches until the queue is closed and empty. A batch the
    /// store fails is tried again, with backoff, until it is stored: nothing queued is dropped
    /// while the process runs. (Shutdown bounds the wait; see the shortener.)
    pub async fn run(self, ingest: &dyn IngestClicks) {
        while let Some(batch) = self.next_batch().await {
            self.store(ingest, batch).await;
            self.in_hand.store(0, Ordering::Relaxed);
        }
    }

    /// The next batch: everything queued up to the batch size, waiting for more until the
    /// first click has waited the interval. `None` once the queue is closed and empty.
    async fn next_batch(&self) -> Option<Vec<ClickEvent>> {
        let first = self.receiver.recv().await.ok()?;
        let deadline = Instant::now() + self.batch_interval;
        let mut batch = Vec::with_capacity(self.batch_size);
        batch.push(first);
        while batch.len() < self.batch_size {
            match self.receiver.try_recv() {
                Ok(event) => batch.push(event),
                Err(TryRecvError::Closed) => break,
                Err(TryRecvError::Empty) => {
                    let next = std::pin::pin!(self.receiver.recv());
                    match select(next, Timer::at(deadline)).await {
                        Either::Left((Ok(event), _)) => batch.push(event),
                        // Closed and empty, or the interval is up.
                        Either::Left((Err(_), _)) | Either::Right(_) => break,
                    }
                }
            }
        }
        self.in_hand.store(batch.len(), Ordering::Relaxed);
        Some(batch)
    }

    async fn store(&self, ingest: &dyn IngestClicks, batch: Vec<ClickEvent>) {
        let mut retry = FIRST_RETRY;
        loop {
            match ingest.ingest(batch.clone()).await {
                Ok(report) => {
                    // Refused events came from our own redirects, which the domain cleans: a
                    // refusal here is a bug to see, not an outage.
                    for refused in &report.rejected {
                        tracing::error!(reason = %refused.reason, "click refused by the store");
                    }
                    let refused = report.rejected.len() as u64;
                    self.counts.delivered.add(report.received - refused, &[]);
                    self.counts.failed.add(refused, &[]);
                    return;
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e, clicks = batch.len(), retry_in_ms = retry.as_millis(),
                        "click batch not stored; trying again"
                    );
                    Timer::after(retry).await;
                    retry = (retry * 2).min(LAST_RETRY);
                }
            }
        }
    }
}

#[derive(Debug)]
struct Counts {
    delivered: Counter<u64>,
    failed: Counter<u64>,
    rejected: Counter<u64>,
}

impl Counts {
    fn new() -> Self {
        let meter = opentelemetry::global::meter("click_queue");
        Self {
            delivered: meter
                .u64_counter("click_events_delivered")
                .with_description("Click events stored (or found stored already).")
                .build(),
            failed: meter
                .u64_counter("click_events_failed")
                .with_description("Click events the store refused.")
                .build(),
            rejected: meter
                .u64_counter("click_events_rejected")
                .with_description("Click events that could not even be queued.")
                .build(),
        }
    }
}

fn observe_depth(sender: &Sender<ClickEvent>, in_hand: &Arc<AtomicUsize>) {
    let (sender, in_hand) = (sender.downgrade(), Arc::downgrade(in_hand));
    let _ = opentelemetry::global::meter("click_queue")
        .i64_observable_gauge("click_events_queue_depth")
        .with_description("Click events queued or being stored.")
        .with_callback(move |observer| {
            if let (Some(sender), Some(in_hand)) = (sender.upgrade(), in_hand.upgrade()) {
                let depth = sender.len() + in_hand.load(Ordering::Relaxed);
                observer.observe(i64::try_from(depth).unwrap_or(i64::MAX), &[]);
            }
        })
        .build();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use application::ports::StoreError;
    use application::use_cases::{IngestError, IngestReport};
    use async_trait::async_trait;
    use domain::{ShortCode, Visit};

    use super::*;

    /// Records each batch it is given; fails the first `failures` calls as a store that is down.
    #[derive(Default)]
    struct Recorder {
        batches: Mutex<Vec<Vec<ClickEvent>>>,
        failures: AtomicUsize,
    }

    #[async_trait]
    impl IngestClicks for Recorder {
        async fn ingest(&self, events: Vec<ClickEvent>) -> Result<IngestReport, IngestError> {
            if self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(StoreError::Unavailable("down".into()).into());
            }
            let received = events.len() as u64;
            self.batches.lock().unwrap().push(events);
            Ok(IngestReport {
                received,
                stored: received,
                rejected: Vec::new(),
            })
        }
    }

    impl Recorder {
        fn sizes(&self) -> Vec<usize> {
            self.batches.lock().unwrap().iter().map(Vec::len).collect()
        }
    }

    fn click(n: usize) -> ClickEvent {
        let visit = Visit::new(None, Some(&format!("agent {n}")), None);
        ClickEvent::new(
            ShortCode::parse("abcDEF12").unwrap(),
            visit,
            chrono::Utc::now(),
        )
    }

    fn settings(capacity: usize, batch_size: usize, batch_interval: Duration) -> QueueSettings {
        QueueSettings {
            capacity,
            batch_size,
            batch_interval,
        }
    }

    #[async_std::test]
    async fn a_full_queue_refuses_at_once_and_a_closed_one_too() {
        let (queued, _drain) = click_queue(settings(2, 10, Duration::from_secs(1)));

        assert_eq!(queued.publish(click(1)), Ok(()));
        assert_eq!(queued.publish(click(2)), Ok(()));
        assert_eq!(
            queued.publish(click(3)),
            Err(PublishError::Rejected("the click queue is full".into()))
        );
        assert_eq!(queued.pending(), 2);
        queued.close();
        assert_eq!(
            queued.publish(click(4)),
            Err(PublishError::Rejected("the click queue is closed".into()))
        );
    }

    #[async_std::test]
    async fn closing_stores_everything_queued_in_order_in_batches_of_the_size() {
        let (queued, drain) = click_queue(settings(100, 3, Duration::from_secs(3600)));
        let events: Vec<ClickEvent> = (0..7).map(click).collect();
        for event in &events {
            queued.publish(event.clone()).unwrap();
        }
        queued.close();
        let recorder = Recorder::default();

        // An hour's interval never passes: closing is what ends the last batch.
        drain.run(&recorder).await;

        assert_eq!(recorder.sizes(), [3, 3, 1]);
        let stored: Vec<ClickEvent> = recorder.batches.into_inner().unwrap().concat();
        assert_eq!(stored, events);
        assert_eq!(queued.pending(), 0);
    }

    #[async_std::test]
    async fn a_batch_short_of_the_size_is_stored_once_the_interval_passes() {
        let (queued, drain) = click_queue(settings(100, 1000, Duration::from_millis(20)));
        let recorder = Arc::new(Recorder::default());
        let running = {
            let recorder = Arc::clone(&recorder);
            async_std::task::spawn(async move { drain.run(recorder.as_ref()).await })
        };
        queued.publish(click(1)).unwrap();
        queued.publish(click(2)).unwrap();

        // Eventually, with the queue still open.
        while recorder.sizes().is_empty() {
            Timer::after(Duration::from_millis(5)).await;
        }

        assert_eq!(recorder.sizes(), [2]);
        queued.close();
        running.await;
    }

    #[async_std::test]
    async fn a_batch_the_store_fails_is_tried_again_until_it_is_stored() {
        let (queued, drain) = click_queue(settings(100, 10, Duration::from_millis(1)));
        for n in 0..4 {
            queued.publish(click(n)).unwrap();
        }
        queued.close();
        let recorder = Recorder {
            failures: AtomicUsize::new(2),
            ..Recorder::default()
        };

        drain.run(&recorder).await;

        assert_eq!(recorder.sizes(), [4]);
        assert_eq!(recorder.failures.load(Ordering::SeqCst), 0);
    }
}
