//! The dead-letter topic: where the consumer puts a message it can't count (it is not a click
//! event, or the click store refuses it), so that the message is kept, with the reason, and
//! its partition moves on. An operator can read them there, fix what is wrong and publish them
//! again to the click topic.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::consumer::Received;

/// The headers a dead letter carries besides the original ones.
pub const REASON: &str = "dlq.reason";
pub const SOURCE_TOPIC: &str = "dlq.source.topic";
pub const SOURCE_PARTITION: &str = "dlq.source.partition";
pub const SOURCE_OFFSET: &str = "dlq.source.offset";

pub(crate) struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetters {
    /// A producer of its own, as durable as the click publisher's: the offset of a poison
    /// message is committed only once its dead letter is acknowledged by every in-sync replica.
    pub(crate) fn new(brokers: &str, topic: &str) -> Result<Self, KafkaError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("client.id", "analytics-consumer-dead-letters")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // An attempt gives up after this; the consumer then tries again, with backoff, and
            // can stop in between.
            .set("message.timeout.ms", "30000")
            .create()?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
        })
    }

    /// Publishes the message as it came (key, value, headers) with the reason and where it
    /// came from, and waits for the broker's acknowledgement.
    pub(crate) async fn send(&self, message: &Received, reason: &str) -> Result<(), KafkaError> {
        let (partition, offset) = (message.partition.to_string(), message.offset.to_string());
        let mut headers = OwnedHeaders::new_with_capacity(message.trace.len() + 4);
        for (key, value) in &message.trace {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        for (key, value) in [
            (REASON, reason),
            (SOURCE_TOPIC, message.topic.as_str()),
            (SOURCE_PARTITION, partition.as_str()),
            (SOURCE_OFFSET, offset.as_str()),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut record = FutureRecord::to(&self.topic)
            .payload(&message.payload)
            .headers(headers);
        if let Some(key) = &message.key {
            record = record.key(key);
        }
        // The send waits for the queue to take it for at most this long; delivery itself is
        // bounded by librdkafka's message timeout.
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map(drop)
            .map_err(|(e, _)| e)
    }
}
