use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use application::IngestClicks;
use domain::ClickEvent;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Histogram;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Headers;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout_at};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::click_codec::decode;
use crate::counters::observe_counters;
use crate::dead_letters::DeadLetters;
use crate::progress::{Progress, watch_lag};

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub brokers: String,
    pub topic: String,
    pub group_id: String,
    /// A batch is stored when it has this many messages...
    pub batch_size: usize,
    /// ...or when this long has passed since its first message, whichever comes first.
    pub batch_wait: Duration,
    /// How long the group waits for a silent member (a crashed process) before handing its
    /// partitions to the others.
    pub session_timeout: Duration,
    /// Where messages that can't be counted go, with the reason.
    pub dead_letter_topic: String,
    /// Committing nothing for this long while messages wait makes the consumer not ready.
    pub stall_timeout: Duration,
}

/// Counts of what the consumer did, for logs and metrics.
#[derive(Debug, Default)]
pub struct ConsumerCounts {
    pub batches: AtomicU64,
    /// Messages read from the topic.
    pub received: AtomicU64,
    pub stored: AtomicU64,
    /// Messages sent to the dead-letter topic.
    pub poison: AtomicU64,
}

/// Reads click events in batches and hands each batch to `IngestClicks`.
///
/// At-least-once: offsets are committed only after `ingest` has made the batch durable, and in
/// order (one commit per batch, after the whole batch). A crash before the commit means the
/// batch is read again, and the store's idempotence (keyed by `event_id`) makes the second
/// delivery count nothing. A store that fails is retried with backoff, never skipped.
///
/// A message that can't be counted never holds up its partition: one that is not a click event,
/// and one the store refuses for its content (which `ingest` finds and sets aside, storing the
/// rest of the batch), goes to the dead-letter topic with the reason, before the commit.
pub struct ClickConsumer {
    consumer: Arc<StreamConsumer>,
    ingest: Arc<dyn IngestClicks>,
    dead_letters: DeadLetters,
    config: ConsumerConfig,
    counts: Arc<ConsumerCounts>,
    progress: Arc<Progress>,
    batch_size: Histogram<u64>,
}

/// Exports what the consumer does (go-zero's queue only logs): batches, messages received,
/// events stored, poison messages, batch sizes, and `click_consumer_lag{topic, partition}`.
fn observe(counts: &Arc<ConsumerCounts>, progress: &Arc<Progress>, topic: &str) -> Histogram<u64> {
    let meter = opentelemetry::global::meter("kafka_consumer");
    observe_counters(
        &meter,
        counts,
        [
            ("click_consumer_batches", "Batches stored.", |c| &c.batches),
            (
                "click_consumer_events_received",
                "Messages read from the topic.",
                |c| &c.received,
            ),
            (
                "click_consumer_events_stored",
                "Click events newly stored (redeliveries excluded).",
                |c| &c.stored,
            ),
            (
                "click_consumer_poison_messages",
                "Messages sent to the dead-letter topic: not click events, or refused by the store.",
                |c| &c.poison,
            ),
        ],
    );
    let (progress, topic) = (Arc::clone(progress), topic.to_owned());
    let _ = meter
        .i64_observable_gauge("click_consumer_lag")
        .with_description("Messages on the partition not yet committed by the group.")
        .with_callback(move |observer| {
            for (partition, behind) in progress.lag() {
                observer.observe(
                    behind,
                    &[
                        KeyValue::new("topic", topic.clone()),
                        KeyValue::new("partition", i64::from(partition)),
                    ],
                );
            }
        })
        .build();
    meter
        .u64_histogram("click_consumer_batch_size")
        .with_description("Events per stored batch.")
        .with_boundaries(vec![
            1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0,
        ])
        .build()
}

/// One message, copied out of librdkafka's buffer.
pub(crate) struct Received {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) payload: Vec<u8>,
    /// The click's trace context (`traceparent`, `tracestate`), as the publisher sent it.
    pub(crate) trace: Vec<(String, String)>,
}

impl Extractor for Received {
    fn get(&self, key: &str) -> Option<&str> {
        self.trace
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.trace.iter().map(|(k, _)| k.as_str()).collect()
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl ClickConsumer {
    /// Joins the consumer group and subscribes. Connecting happens in the background.
    ///
    /// # Errors
    /// When librdkafka rejects the configuration or the subscription.
    pub fn new(config: ConsumerConfig, ingest: Arc<dyn IngestClicks>) -> Result<Self, KafkaError> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("group.id", &config.group_id)
            // Offsets move only when this code commits them, after the rows are durable.
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // A new group starts from the oldest click still on the topic, not the newest.
            .set("auto.offset.reset", "earliest")
            // Notice a topic created after the subscription within seconds, not minutes.
            .set("topic.metadata.refresh.interval.ms", "5000")
            .set(
                "session.timeout.ms",
                config.session_timeout.as_millis().to_string(),
            )
            .create()?;
        consumer.subscribe(&[&config.topic])?;
        let dead_letters = DeadLetters::new(&config.brokers, &config.dead_letter_topic)?;
        let counts = Arc::new(ConsumerCounts::default());
        let progress = Arc::new(Progress::new(
            config.stall_timeout,
            std::time::Instant::now(),
        ));
        let batch_size = observe(&counts, &progress, &config.topic);
        Ok(Self {
            consumer: Arc::new(consumer),
            ingest,
            dead_letters,
            config,
            counts,
            progress,
            batch_size,
        })
    }

    pub fn counts(&self) -> Arc<ConsumerCounts> {
        self.counts.clone()
    }

    /// The readiness check (blocking, so call it off the async threads): the brokers answer a
    /// metadata request for the topic. Usable while the consumer runs.
    pub fn brokers_check(
        &self,
    ) -> impl Fn(Duration) -> Result<(), String> + Clone + Send + Sync + 'static {
        let (consumer, topic) = (Arc::clone(&self.consumer), self.config.topic.clone());
        move |timeout| {
            consumer
                .fetch_metadata(Some(&topic), timeout)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }

    /// The readiness check of the consumer's own progress (see [`Progress::check`]). Usable
    /// while the consumer runs.
    pub fn progress_check(
        &self,
    ) -> impl Fn() -> Result<(), String> + Clone + Send + Sync + 'static {
        let progress = Arc::clone(&self.progress);
        move || progress.check(std::time::Instant::now())
    }

    /// Consumes until `shutdown` completes. A batch already being read is finished, stored and
    /// committed first; a batch whose store is still failing at shutdown is left uncommitted,
    /// to be read again by the next consumer.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (stop, mut stopping) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let _lag = watch_lag(
            &self.consumer,
            self.config.topic.clone(),
            Arc::clone(&self.progress),
        );
        loop {
            let first = tokio::select! {
                biased;
                _ = stopping.wait_for(|stop| *stop) => break,
                first = self.consumer.recv() => first,
            };
            let first = match first {
                Ok(message) => copy(&message),
                Err(e) => {
                    tracing::warn!(error = %e, "kafka consumer error");
                    continue;
                }
            };
            let batch = self.fill_batch(first).await;
            let clicks = click_contexts(&batch);
            let span = batch_span(batch.len(), &clicks);
            if !self
                .settle(&batch, &trace_list(&clicks), &mut stopping)
                .instrument(span.clone())
                .await
            {
                break;
            }
            self.commit(&batch).instrument(span).await;
        }
        tracing::info!("click consumer stopped");
    }

    /// Adds messages to the batch until it is full or its time is up.
    async fn fill_batch(&self, first: Received) -> Vec<Received> {
        let deadline = Instant::now() + self.config.batch_wait;
        let mut batch = Vec::with_capacity(self.config.batch_size);
        batch.push(first);
        while batch.len() < self.config.batch_size {
            match timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(message)) => batch.push(copy(&message)),
                Ok(Err(e)) => tracing::warn!(error = %e, "kafka consumer error"),
                Err(_) => break,
            }
        }
        batch
    }

    /// Makes the whole batch durable: its click events stored, and the messages that can't be
    /// counted dead-lettered. `false` when shutdown came first: the batch must then not be
    /// committed.
    async fn settle(
        &self,
        batch: &[Received],
        click_traces: &str,
        stopping: &mut watch::Receiver<bool>,
    ) -> bool {
        let Decoded {
            events,
            origin,
            mut poison,
        } = Decoded::of(batch);
        let ingest = || self.ingest.ingest(events.clone());
        let Some(report) = retrying("batch not stored", stopping, ingest).await else {
            return false;
        };
        self.batch_size.record(report.received, &[]);
        self.counts.batches.fetch_add(1, Ordering::Relaxed);
        self.counts
            .received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.counts
            .stored
            .fetch_add(report.stored, Ordering::Relaxed);
        tracing::info!(
            received = batch.len(),
            stored = report.stored,
            rejected = report.rejected.len(),
            click_traces,
            "batch stored"
        );
        poison.extend(report.rejected.into_iter().map(|rejected| {
            (
                origin[rejected.index],
                format!("refused by the click store: {}", rejected.reason),
            )
        }));
        poison.sort_unstable_by_key(|(at, _)| *at);
        self.dead_letter(batch, &poison, stopping).await
    }

    /// Sends each poison message (its position in the batch, and why) to the dead-letter
    /// topic. `false` when shutdown came first.
    async fn dead_letter(
        &self,
        batch: &[Received],
        poison: &[(usize, String)],
        stopping: &mut watch::Receiver<bool>,
    ) -> bool {
        for (at, reason) in poison {
            let message = &batch[*at];
            tracing::warn!(
                topic = %message.topic,
                partition = message.partition,
                offset = message.offset,
                %reason,
                "poison message: sending it to the dead-letter topic"
            );
            let send = || self.dead_letters.send(message, reason);
            if retrying("poison message not dead-lettered", stopping, send)
                .await
                .is_none()
            {
                return false;
            }
            self.counts.poison.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Commits, per partition, the offset after the batch's last message.
    async fn commit(&self, batch: &[Received]) {
        let mut next: HashMap<(&str, i32), i64> = HashMap::new();
        for message in batch {
            let offset = next.entry((&message.topic, message.partition)).or_default();
            *offset = (*offset).max(message.offset + 1);
        }
        let mut offsets = TopicPartitionList::with_capacity(next.len());
        for ((topic, partition), offset) in next {
            if let Err(e) = offsets.add_partition_offset(topic, partition, Offset::Offset(offset)) {
                tracing::error!(error = %e, "cannot build the offset commit");
                return;
            }
        }
        let consumer = self.consumer.clone();
        // A synchronous commit waits for the broker: off the async threads.
        let committed =
            tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync)).await;
        match committed {
            Ok(Ok(())) => self.progress.committed(std::time::Instant::now()),
            // The batch is durable; an uncommitted offset only means it is read again, and
            // counted zero times more.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "offset commit failed; the batch will be redelivered")
            }
            Err(e) => tracing::warn!(error = %e, "offset commit task failed"),
        }
    }
}

/// A batch's messages sorted out: the click events, and the ones that aren't.
struct Decoded {
    events: Vec<ClickEvent>,
    /// The position in the batch of the message each event came from.
    origin: Vec<usize>,
    /// The position of each message that is not a click event, and why.
    poison: Vec<(usize, String)>,
}

impl Decoded {
    fn of(batch: &[Received]) -> Self {
        let mut decoded = Self {
            events: Vec::with_capacity(batch.len()),
            origin: Vec::with_capacity(batch.len()),
            poison: Vec::new(),
        };
        for (at, message) in batch.iter().enumerate() {
            match decode(&message.payload) {
                Ok(event) => {
                    decoded.events.push(event);
                    decoded.origin.push(at);
                }
                Err(e) => decoded.poison.push((at, e.to_string())),
            }
        }
        decoded
    }
}

/// Runs `attempt` until it succeeds, backing off between failures. `None` when shutdown came
/// first; an attempt in flight always runs to its end, so a shutdown never cuts a store short.
async fn retrying<T, E: Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    stopping: &mut watch::Receiver<bool>,
    mut attempt: impl FnMut() -> F,
) -> Option<T> {
    let mut backoff = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(done) => return Some(done),
            Err(e) => {
                tracing::error!(error = %e, retry_in = ?backoff, "{what}");
                tokio::select! {
                    biased;
                    _ = stopping.wait_for(|stop| *stop) => return None,
                    () = sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn copy(message: &impl Message) -> Received {
    let trace = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .filter_map(|h| {
                    Some((h.key.to_owned(), String::from_utf8(h.value?.to_vec()).ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    Received {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        payload: message.payload().unwrap_or_default().to_vec(),
        trace,
    }
}

/// The trace context each click in the batch was published in (its redirect's), where valid.
fn click_contexts(batch: &[Received]) -> Vec<SpanContext> {
    batch
        .iter()
        .map(|message| {
            let click = opentelemetry::global::get_text_map_propagator(|p| p.extract(message));
            click.span().span_context().clone()
        })
        .filter(SpanContext::is_valid)
        .collect()
}

/// The span of one batch: a trace of its own (one batch serves many redirects' traces), linked
/// to the trace of each click in it.
fn batch_span(messages: usize, clicks: &[SpanContext]) -> tracing::Span {
    let span = tracing::info_span!(
        "consume batch",
        otel.kind = "consumer",
        messaging.batch.message_count = messages,
    );
    let _ = span.set_parent(opentelemetry::Context::new());
    for click in clicks {
        span.add_link(click.clone());
    }
    span
}

/// The clicks' trace ids for the batch's log line: at most 20, then how many more.
fn trace_list(clicks: &[SpanContext]) -> String {
    const SHOWN: usize = 20;
    let mut ids: Vec<String> = clicks.iter().map(|c| c.trace_id().to_string()).collect();
    ids.dedup();
    let more = ids.len().saturating_sub(SHOWN);
    ids.truncate(SHOWN);
    let mut shown = ids.join(",");
    if more > 0 {
        shown.push_str(&format!(",+{more} more"));
    }
    shown
}
