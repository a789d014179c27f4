//! Link events on a topic of their own (`link-events`): a delete through one url-api replica
//! reaches every other one, whose cache then drops the link.
//!
//! The listener is in no consumer group and commits nothing: every replica reads every event,
//! from the newest offset when it starts (a replica just started has no copies to drop). The
//! value is JSON, `{"short_code":"…","event":"deleted"}`, keyed by the code.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use application::LinkCopies;
use application::ports::LinkEventPublisher;
use domain::{LinkEvent, ShortCode};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use crate::counters::observe_counters;
use crate::publisher::{DeliveryCounts, DeliveryReports};

#[derive(Debug, Clone)]
pub struct LinkEventsConfig {
    pub brokers: String,
    pub topic: String,
    /// Name the broker logs this client under.
    pub client_id: String,
}

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    short_code: &'a str,
    event: &'a str,
}

const DELETED: &str = "deleted";

/// The event's value on the topic.
#[must_use]
pub fn encode_link_event(event: &LinkEvent) -> Vec<u8> {
    let wire = match event {
        LinkEvent::Deleted(code) => Wire {
            short_code: code.as_str(),
            event: DELETED,
        },
    };
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// What a message on the topic says: an event, one this version doesn't know (a newer
/// publisher's, skipped), or nothing it can read.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkEventMessage {
    Event(LinkEvent),
    Unknown(String),
    Malformed(String),
}

/// Reads a message's value; nothing in it can fail more than that message.
#[must_use]
pub fn decode_link_event(payload: &[u8]) -> LinkEventMessage {
    let wire: Wire<'_> = match serde_json::from_slice(payload) {
        Ok(wire) => wire,
        Err(e) => return LinkEventMessage::Malformed(e.to_string()),
    };
    let code = match ShortCode::parse(wire.short_code) {
        Ok(code) => code,
        Err(e) => return LinkEventMessage::Malformed(e.to_string()),
    };
    match wire.event {
        DELETED => LinkEventMessage::Event(LinkEvent::Deleted(code)),
        other => LinkEventMessage::Unknown(other.chars().take(64).collect()),
    }
}

/// Publishes link events on librdkafka's queue: `publish` never waits on the network, and
/// librdkafka retries through a broker's absence for `message.timeout.ms`.
pub struct KafkaLinkEvents {
    producer: Arc<ThreadedProducer<DeliveryReports>>,
    topic: String,
    counts: Arc<DeliveryCounts>,
}

impl KafkaLinkEvents {
    /// Creates the producer; it connects in the background.
    ///
    /// # Errors
    /// When librdkafka rejects the configuration.
    pub fn new(config: &LinkEventsConfig) -> Result<Self, KafkaError> {
        let counts = Arc::new(DeliveryCounts::default());
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("client.id", &config.client_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // A delete's news should travel at once; deletes are few.
            .set("linger.ms", "0")
            // Past a minute the other replicas' copies have expired anyway (the cache's TTL).
            .set("message.timeout.ms", "60000")
            .create_with_context(DeliveryReports {
                counts: counts.clone(),
                what: "link event",
            })?;
        observe_counters(
            &opentelemetry::global::meter("kafka_producer"),
            &counts,
            [
                (
                    "link_events_delivered",
                    "Link events the broker acknowledged.",
                    |c| &c.delivered,
                ),
                (
                    "link_events_failed",
                    "Link events given up on after retries.",
                    |c| &c.failed,
                ),
                (
                    "link_events_rejected",
                    "Link events that could not even be queued.",
                    |c| &c.rejected,
                ),
            ],
        );
        Ok(Self {
            producer: Arc::new(producer),
            topic: config.topic.clone(),
            counts,
        })
    }

    pub fn counts(&self) -> &DeliveryCounts {
        &self.counts
    }

    /// Waits (blocking) until every queued event is delivered or `timeout` passes. Call on
    /// shutdown.
    ///
    /// # Errors
    /// When events are still queued at the timeout.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout)
    }
}

impl LinkEventPublisher for KafkaLinkEvents {
    fn publish(&self, event: LinkEvent) {
        let payload = encode_link_event(&event);
        let code = event.code();
        let record = BaseRecord::to(&self.topic)
            .key(code.as_str())
            .payload(&payload);
        if let Err((e, _)) = self.producer.send(record) {
            self.counts.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, short_code = %code, "link event not queued");
        }
    }
}

/// What the listener read, for metrics.
#[derive(Debug, Default)]
pub struct ListenerCounts {
    pub followed: AtomicU64,
    pub skipped: AtomicU64,
}

/// Reads every link event published after it started and has the cache follow each.
pub struct LinkEventListener {
    consumer: StreamConsumer,
    topic: String,
    copies: Arc<dyn LinkCopies>,
    counts: Arc<ListenerCounts>,
}

impl LinkEventListener {
    /// Creates the consumer and assigns it every partition of the topic at its newest offset,
    /// read now (blocking up to `timeout` for each answer): every event published after this
    /// returns is followed. Call before serving, so that no delete published after the first
    /// redirect is missed.
    ///
    /// # Errors
    /// When librdkafka rejects the configuration, or the topic's partitions can't be learned
    /// within `timeout` (the broker is away: the caller may go on without, the cache's TTL
    /// then bounds staleness).
    pub fn new(
        config: &LinkEventsConfig,
        copies: Arc<dyn LinkCopies>,
        timeout: Duration,
    ) -> Result<Self, KafkaError> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("client.id", &config.client_id)
            // librdkafka wants a group for a consumer; with `assign` and no commits it is
            // never joined and holds no offsets.
            .set("group.id", format!("{}-link-events", config.client_id))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "latest")
            .create()?;
        let metadata = consumer.fetch_metadata(Some(&config.topic), timeout)?;
        let mut partitions = TopicPartitionList::new();
        for topic in metadata.topics() {
            if let Some(e) = topic.error() {
                return Err(KafkaError::MetadataFetch(e.into()));
            }
            // A topic being created can be listed before its partitions are, or with
            // partitions that have no leader yet: following that would follow nothing.
            if topic.partitions().is_empty() {
                return Err(KafkaError::MetadataFetch(
                    rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
                ));
            }
            for partition in topic.partitions() {
                if let Some(e) = partition.error() {
                    return Err(KafkaError::MetadataFetch(e.into()));
                }
                // Not `Offset::End`: librdkafka resolves that at its first fetch, which may come
                // after events published once this has returned, and those would be skipped.
                let (_, newest) =
                    consumer.fetch_watermarks(&config.topic, partition.id(), timeout)?;
                partitions.add_partition_offset(
                    &config.topic,
                    partition.id(),
                    Offset::Offset(newest),
                )?;
            }
        }
        consumer.assign(&partitions)?;
        let counts = Arc::new(ListenerCounts::default());
        observe_counters(
            &opentelemetry::global::meter("kafka_consumer"),
            &counts,
            [
                (
                    "link_events_followed",
                    "Link events from other replicas applied to the cache.",
                    |c| &c.followed,
                ),
                (
                    "link_events_skipped",
                    "Messages on the link-events topic that were not events this version reads.",
                    |c| &c.skipped,
                ),
            ],
        );
        Ok(Self {
            consumer,
            topic: config.topic.clone(),
            copies,
            counts,
        })
    }

    pub fn counts(&self) -> Arc<ListenerCounts> {
        Arc::clone(&self.counts)
    }

    /// Follows events until `shutdown` completes. A broker that goes away is reconnected to
    /// by librdkafka, from where the listener was.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) {
        tracing::info!(topic = %self.topic, "following link events");
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let received = tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = self.consumer.recv() => received,
            };
            let message = match received {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(error = %e, "link events consumer error");
                    continue;
                }
            };
            match decode_link_event(message.payload().unwrap_or_default()) {
                LinkEventMessage::Event(event) => {
                    self.copies.follow(event).await;
                    self.counts.followed.fetch_add(1, Ordering::Relaxed);
                }
                LinkEventMessage::Unknown(event) => {
                    self.counts.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(event, "link event of a kind this version doesn't know");
                }
                LinkEventMessage::Malformed(reason) => {
                    self.counts.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        reason,
                        partition = message.partition(),
                        offset = message.offset(),
                        "not a link event; skipped"
                    );
                }
            }
        }
        tracing::info!("link events listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[test]
    fn an_event_reads_back_as_itself() {
        let event = LinkEvent::Deleted(ShortCode::parse("abcDEF12").unwrap());
        let encoded = encode_link_event(&event);
        assert_eq!(
            String::from_utf8(encoded.clone()).unwrap(),
            r#"{"short_code":"abcDEF12","event":"deleted"}"#
        );
        assert_eq!(decode_link_event(&encoded), LinkEventMessage::Event(event));
    }

    #[rstest]
    #[case::empty(b"")]
    #[case::not_json(b"deleted abcDEF12")]
    #[case::nul_in_the_code(b"{\"short_code\":\"abc\\u0000EF12\",\"event\":\"deleted\"}")]
    #[case::not_a_code(b"{\"short_code\":\"../etc\",\"event\":\"deleted\"}")]
    #[case::no_code(b"{\"event\":\"deleted\"}")]
    #[case::not_utf8(b"{\"short_code\":\"\xff\xfe\",\"event\":\"deleted\"}")]
    #[case::a_number(b"{\"short_code\":12345678,\"event\":\"deleted\"}")]
    fn what_is_not_an_event_is_malformed(#[case] payload: &[u8]) {
        assert!(matches!(
            decode_link_event(payload),
            LinkEventMessage::Malformed(_)
        ));
    }

    #[test]
    fn a_kind_this_version_does_not_know_is_skipped_by_name() {
        assert_eq!(
            decode_link_event(br#"{"short_code":"abcDEF12","event":"renamed"}"#),
            LinkEventMessage::Unknown("renamed".into())
        );
    }
}
