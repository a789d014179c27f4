//! Kafka, through rdkafka (librdkafka): the `ClickPublisher` url-api uses, the consumer that
//! feeds analytics-consumer's `IngestClicks`, and the link events url-api's replicas tell each
//! other.

mod click_codec;
mod consumer;
mod counters;
mod dead_letters;
mod link_events;
mod progress;
mod publisher;
mod topic;

pub use click_codec::{DecodeError, decode, encode};
pub use consumer::{ClickConsumer, ConsumerConfig, ConsumerCounts};
pub use dead_letters::{REASON, SOURCE_OFFSET, SOURCE_PARTITION, SOURCE_TOPIC};
pub use link_events::{
    KafkaLinkEvents, LinkEventListener, LinkEventMessage, LinkEventsConfig, ListenerCounts,
    decode_link_event, encode_link_event,
};
pub use publisher::{DeliveryCounts, KafkaClickPublisher, PublisherConfig};
pub use topic::ensure_topic;
