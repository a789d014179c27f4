//! The whole stack as processes: the three binaries, each with its shipped configuration on the
//! test's own topic and consumer group.

use std::path::PathBuf;

use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::process::{Log, Service};
use integration_tests::{geoip, wait};
use serde_json::Value;

use adapter_http::Engine;
use domain::Role;

use crate::url_api_app::{client_with, make_key};

pub(crate) struct Stack {
    _db: Option<TestDatabase>,
    pub(crate) database_url: String,
    _kafka: TestKafka,
    dir: PathBuf,
    vars: Vec<(&'static str, String)>,
    /// url-api's: `vars` and where its neighbours are.
    api_vars: Vec<(&'static str, String)>,
    pub(crate) api: Service,
    pub(crate) rpc: Option<Service>,
    /// Sends an admin's key with every request.
    pub(crate) client: reqwest::Client,
}

/// The services read their configuration at start: the directory goes with the stack.
impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Stack {
    /// On a fresh database and topic of the shared test servers. The consumer is returned
    /// apart, for the tests that kill it.
    pub(crate) async fn start() -> (Self, Service) {
        Self::start_on(Engine::default()).await
    }

    /// The same, with url-api on `engine`.
    pub(crate) async fn start_on(engine: Engine) -> (Self, Service) {
        let db = TestDatabase::create().await;
        let url = db.url.clone();
        let kafka = TestKafka::start().await;
        Self::on(Some(db), &url, kafka, engine).await
    }

    /// On a database server the test runs itself (see `integration_tests::private`).
    pub(crate) async fn with_database(database_url: &str) -> (Self, Service) {
        let kafka = TestKafka::start().await;
        Self::on(None, database_url, kafka, Engine::default()).await
    }

    /// On a Kafka broker the test runs itself (see `integration_tests::private`).
    pub(crate) async fn with_brokers(brokers: &str) -> (Self, Service) {
        let db = TestDatabase::create().await;
        let url = db.url.clone();
        let kafka = TestKafka::on(brokers).await;
        Self::on(Some(db), &url, kafka, Engine::default()).await
    }

    async fn on(
        db: Option<TestDatabase>,
        database_url: &str,
        kafka: TestKafka,
        engine: Engine,
    ) -> (Self, Service) {
        let dir = std::env::temp_dir().join(format!("stack-{}", kafka.topic));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["url-api", "analytics-rpc", "analytics-consumer"] {
            let shipped = std::fs::read_to_string(format!(
                "{}/../bootstrap/etc/{name}.yaml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let own = for_tests(&shipped, &kafka);
            std::fs::write(dir.join(format!("{name}.yaml")), own).unwrap();
        }
        let vars = vec![
            ("DATABASE_URL", database_url.to_owned()),
            ("KAFKA_BROKERS", kafka.brokers.clone()),
            ("GEOIP_DATABASE", geoip::database().display().to_string()),
            ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("DEV_ADDR", "127.0.0.1:0".to_owned()),
            // As compose runs them: url-api proves itself to analytics-rpc with a token.
            ("ANALYTICS_RPC_TOKEN", format!("token-{}", kafka.topic)),
        ];
        let config = |name: &str| dir.join(format!("{name}.yaml")).display().to_string();
        let consumer = Service::start("analytics-consumer", &config("analytics-consumer"), &vars);
        let rpc = Service::start("analytics-rpc", &config("analytics-rpc"), &vars);
        let mut api_vars = vars.clone();
        api_vars.push(("ANALYTICS_RPC_URL", format!("http://{}", rpc.addr())));
        api_vars.push(("BASE_URL", "http://sho.rt".to_owned()));
        api_vars.push(("HTTP_ENGINE", engine.name().to_owned()));
        let api = Service::start("url-api", &config("url-api"), &api_vars);
        // An admin's key, made as `admin keys create` makes one, sent with every request.
        let admin = make_key(database_url, "stack admin", Role::Admin).await;
        let client = client_with(Some(&admin));
        let stack = Self {
            _db: db,
            database_url: database_url.to_owned(),
            _kafka: kafka,
            dir,
            vars,
            api_vars,
            api,
            rpc: Some(rpc),
            client,
        };
        (stack, consumer)
    }

    /// Another analytics-consumer in the group, taking `batch_size` events at a time.
    pub(crate) fn start_consumer(&self, batch_size: usize) -> Service {
        self.start_consumer_with(&format!("batch-{batch_size}"), |yaml| {
            yaml.replace("batch_size: 2000", &format!("batch_size: {batch_size}"))
        })
    }

    /// Another analytics-consumer in the group, its configuration edited by `edit` and kept
    /// under `name`.
    pub(crate) fn start_consumer_with(
        &self,
        name: &str,
        edit: impl FnOnce(String) -> String,
    ) -> Service {
        let config = self.dir.join("analytics-consumer.yaml");
        let text = edit(std::fs::read_to_string(&config).unwrap());
        let own = self.dir.join(format!("analytics-consumer-{name}.yaml"));
        std::fs::write(&own, text).unwrap();
        Service::start("analytics-consumer", &own.display().to_string(), &self.vars)
    }

    /// Another url-api on the same database and topics (a replica), once it follows the link
    /// events.
    pub(crate) async fn start_url_api(&self) -> Service {
        let (sent, lines) = std::sync::mpsc::channel();
        let config = self.dir.join("url-api.yaml").display().to_string();
        let api = Service::start_with("url-api", &config, &self.api_vars, Log::Lines(sent));
        wait::until("the replica to follow link events", 300, || async {
            lines
                .try_iter()
                // The message itself: "not following link events yet" contains the words.
                .any(|line| line.contains(r#""message":"following link events""#))
                .then_some(())
        })
        .await;
        api
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api.addr())
    }

    pub(crate) async fn shorten(&self, url: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/urls"))
            .json(&serde_json::json!({ "original_url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json::<Value>().await.unwrap()["short_code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn follow(&self, code: &str, times: usize) {
        for _ in 0..times {
            let res = self
                .client
                .get(self.url(&format!("/{code}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 302);
        }
    }

    pub(crate) async fn total_clicks(&self, code: &str) -> Value {
        let res = self
            .client
            .get(self.url(&format!("/api/v1/links/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["total_clicks"].clone()
    }

    /// Waits until url-api reports at least `expected` clicks, and returns what it reports.
    pub(crate) async fn wait_for_clicks(&self, code: &str, expected: u64) -> u64 {
        wait::until(&format!("total_clicks >= {expected}"), 1200, || async {
            self.total_clicks(code)
                .await
                .as_u64()
                .filter(|n| *n >= expected)
        })
        .await
    }
}

/// A shipped configuration on the test's topics and group, with what a busy test machine
/// needs: short batch waits, no shedding, no rate limits.
pub(crate) fn for_tests(shipped: &str, kafka: &TestKafka) -> String {
    shipped
        .replace(
            "  topic: click-events\n",
            &format!("  topic: {}\n", kafka.topic),
        )
        .replace(
            "link_events_topic: link-events",
            &format!("link_events_topic: {}.links", kafka.topic),
        )
        .replace(
            "dead_letter_topic: click-events.dlq",
            &format!("dead_letter_topic: {}", kafka.dead_letter_topic()),
        )
        .replace(
            "group_id: analytics-consumer",
            &format!("group_id: {}", kafka.group()),
        )
        .replace("batch_wait_ms: 200", "batch_wait_ms: 50")
        // The test machine's CPU is busy running tests: shedding would make results depend on
        // it. The shedder is tested on its own, with an injected CPU.
        .replace("shedding: true", "shedding: false")
        // One address sends the test's whole load (see url_api_app).
        .replace("  enabled: true ", "  enabled: false ")
}
