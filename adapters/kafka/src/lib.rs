//! Kafka, through rdkafka (librdkafka): the `ClickPublisher` url-api uses, and the consumer that
//! feeds analytics-consumer's `IngestClicks`.

mod click_codec;
mod consumer;
mod counters;
mod dead_letters;
mod progress;
mod publisher;
mod topic;

pub use click_codec::{DecodeError, decode, encode};
pub use consumer::{ClickConsumer, ConsumerConfig, ConsumerCounts};
pub use dead_letters::{REASON, SOURCE_OFFSET, SOURCE_PARTITION, SOURCE_TOPIC};
pub use publisher::{DeliveryCounts, KafkaClickPublisher, PublisherConfig};
pub use topic::ensure_topic;
