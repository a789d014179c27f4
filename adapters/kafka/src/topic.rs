use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Creates the topic if it is missing, with the broker's default partitions and replication.
/// Services call this at start so a fresh cluster works without a separate setup step.
///
/// # Errors
/// When the broker can't be reached within `timeout` or refuses; an existing topic is fine.
pub async fn ensure_topic(brokers: &str, topic: &str, timeout: Duration) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    // -1: the broker's num.partitions and default.replication.factor.
    let new_topic = NewTopic::new(topic, -1, TopicReplication::Fixed(-1));
    let options = AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    for result in admin.create_topics([&new_topic], &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}
