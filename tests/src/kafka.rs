//! A Kafka broker for a test, and a topic of its own.
//!
//! With `TEST_KAFKA_BROKERS` set (as `.ci/run` and `scripts/kafka.sh` provide), tests share that
//! broker, each on a fresh topic. Without it, each test starts its own broker container
//! (`apache/kafka`) through testcontainers, which needs a running Docker daemon.

use std::time::Duration;

use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};
use testcontainers_modules::kafka::apache::{KAFKA_PORT, Kafka};

/// The `apache/kafka` (JVM) image tag used when no `TEST_KAFKA_BROKERS` is given: the version
/// `scripts/kafka.sh` runs (`scripts/kafka/pom.xml`), so both paths test the same broker.
pub const KAFKA_TAG: &str = "4.4.0";

pub struct TestKafka {
    pub brokers: String,
    /// A topic no other test uses, already created.
    pub topic: String,
    _container: Option<ContainerAsync<Kafka>>,
}

impl TestKafka {
    pub async fn start() -> Self {
        let (brokers, container) = match std::env::var("TEST_KAFKA_BROKERS") {
            Ok(brokers) => (brokers, None),
            Err(_) => {
                let container = Kafka::default()
                    .with_jvm_image()
                    .with_tag(KAFKA_TAG)
                    .start()
                    .await
                    .expect(
                        "no TEST_KAFKA_BROKERS and no Kafka container: set TEST_KAFKA_BROKERS \
                     (see scripts/kafka.sh) or start Docker",
                    );
                let port = container
                    .get_host_port_ipv4(KAFKA_PORT)
                    .await
                    .expect("container port");
                (format!("127.0.0.1:{port}"), Some(container))
            }
        };
        Self::with_topic(brokers, container).await
    }

    /// A fresh topic on a broker the test runs itself (see `private`).
    pub async fn on(brokers: &str) -> Self {
        Self::with_topic(brokers.to_owned(), None).await
    }

    /// On the shared broker (or a container of its own), with a topic of `partitions`.
    pub async fn with_partitions(partitions: i32) -> Self {
        let kafka = Self::start().await;
        let topic = format!("click-events-{}", uuid::Uuid::now_v7().simple());
        create_topic(&kafka.brokers, &topic, partitions).await;
        adapter_kafka::ensure_topic(&kafka.brokers, &dead_letter_topic(&topic), TIMEOUT)
            .await
            .expect("create the dead-letter topic");
        Self { topic, ..kafka }
    }

    async fn with_topic(brokers: String, container: Option<ContainerAsync<Kafka>>) -> Self {
        let topic = format!("click-events-{}", uuid::Uuid::now_v7().simple());
        for topic in [topic.clone(), dead_letter_topic(&topic)] {
            adapter_kafka::ensure_topic(&brokers, &topic, TIMEOUT)
                .await
                .expect("create the test topic");
        }
        Self {
            brokers,
            topic,
            _container: container,
        }
    }

    /// A consumer group no other test uses.
    pub fn group(&self) -> String {
        format!("group-{}", self.topic)
    }

    /// The dead-letter topic of this test's topic, already created.
    pub fn dead_letter_topic(&self) -> String {
        dead_letter_topic(&self.topic)
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

async fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("an admin client");
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let created = admin
        .create_topics(
            [&NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &options,
        )
        .await
        .expect("the broker answers");
    for result in created {
        result.unwrap_or_else(|(topic, e)| panic!("create {topic}: {e}"));
    }
}

/// As the shipped configuration names it: `click-events.dlq` for `click-events`.
fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_container_runs_the_kafka_version_the_scripts_run() {
        let pom = include_str!("../../scripts/kafka/pom.xml");
        let expected = format!("<kafka.version>{}</kafka.version>", super::KAFKA_TAG);
        assert!(
            pom.contains(&expected),
            "scripts/kafka/pom.xml lacks {expected}"
        );
    }
}
