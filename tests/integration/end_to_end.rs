//! The three binaries started as an operator starts them, against real PostgreSQL and Kafka:
//! redirects through url-api become clicks counted by analytics-consumer and reported by
//! analytics-rpc back through url-api.
//!
//! The binaries are the ones `cargo test --workspace` builds next to this test (for bootstrap's
//! own tests); `cargo build -p bootstrap` provides them when this crate is tested alone.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::{geoip, wait};
use serde_json::Value;

/// One running binary; killed when dropped, so a failing test leaves nothing behind.
struct Service {
    child: Child,
    /// The address from its "listening" log line, for the ones that listen.
    addr: Option<String>,
}

impl Service {
    fn start(binary: &str, config: &str, vars: &[(&str, String)], listens: bool) -> Self {
        let path = binary_path(binary);
        let mut child = Command::new(&path)
            .args(["--config", config])
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("listening") || line.contains("consuming") {
                addr = line.split("addr=").nth(1).map(|a| a.trim().to_owned());
                break;
            }
            assert!(!line.contains("ERROR"), "{binary}: {line}");
        }
        assert!(
            !listens || addr.is_some(),
            "{binary} exited before it was ready"
        );
        // Keep draining the log so the process never blocks on a full pipe.
        let name = binary.to_owned();
        std::thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .for_each(|l| eprintln!("{name}: {l}"))
        });
        Self { child, addr }
    }

    fn addr(&self) -> &str {
        self.addr.as_deref().unwrap_or_default()
    }

    /// SIGKILL: no shutdown path runs, like a crash or an OOM kill.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary_path(name: &str) -> PathBuf {
    // target/debug/deps/integration-… → target/debug/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join(name);
    assert!(
        path.is_file(),
        "{} is not built: run cargo build -p bootstrap",
        path.display()
    );
    path
}

/// The three processes on a fresh database and topic.
struct Stack {
    _db: TestDatabase,
    _kafka: TestKafka,
    dir: PathBuf,
    vars: Vec<(&'static str, String)>,
    api: Service,
    _rpc: Service,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> (Self, Service) {
        let db = TestDatabase::create().await;
        let kafka = TestKafka::start().await;
        let dir = std::env::temp_dir().join(format!("e2e-{}", kafka.topic));
        std::fs::create_dir_all(&dir).unwrap();
        // The shipped configurations, on this test's own topic and consumer group.
        for name in ["url-api", "analytics-rpc", "analytics-consumer"] {
            let shipped = std::fs::read_to_string(format!(
                "{}/../bootstrap/etc/{name}.yaml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let own = shipped
                .replace("topic: click-events", &format!("topic: {}", kafka.topic))
                .replace(
                    "group_id: analytics-consumer",
                    &format!("group_id: {}", kafka.group()),
                )
                .replace("batch_wait_ms: 200", "batch_wait_ms: 50")
                // No load shedding on a CPU busy running tests (see url_api_app.rs).
                .replace("shedding: true", "shedding: false");
            std::fs::write(dir.join(format!("{name}.yaml")), own).unwrap();
        }
        let vars = vec![
            ("DATABASE_URL", db.url.clone()),
            ("KAFKA_BROKERS", kafka.brokers.clone()),
            ("GEOIP_DATABASE", geoip::database().display().to_string()),
            ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ];
        let config = |name: &str| dir.join(format!("{name}.yaml")).display().to_string();
        let consumer = Service::start(
            "analytics-consumer",
            &config("analytics-consumer"),
            &vars,
            false,
        );
        let rpc = Service::start("analytics-rpc", &config("analytics-rpc"), &vars, true);
        let mut api_vars = vars.clone();
        api_vars.push(("ANALYTICS_RPC_URL", format!("http://{}", rpc.addr())));
        api_vars.push(("BASE_URL", "http://sho.rt".to_owned()));
        let api = Service::start("url-api", &config("url-api"), &api_vars, true);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let stack = Self {
            _db: db,
            _kafka: kafka,
            dir,
            vars,
            api,
            _rpc: rpc,
            client,
        };
        (stack, consumer)
    }

    fn start_consumer(&self, batch_size: usize) -> Service {
        let config = self.dir.join("analytics-consumer.yaml");
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("batch_size: 500", &format!("batch_size: {batch_size}"));
        let own = self
            .dir
            .join(format!("analytics-consumer-{batch_size}.yaml"));
        std::fs::write(&own, text).unwrap();
        Service::start(
            "analytics-consumer",
            &own.display().to_string(),
            &self.vars,
            false,
        )
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api.addr())
    }

    async fn shorten(&self, url: &str) -> String {
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

    async fn follow(&self, code: &str, times: usize) {
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

    async fn total_clicks(&self, code: &str) -> Value {
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
    async fn wait_for_clicks(&self, code: &str, expected: u64) -> u64 {
        wait::until(&format!("total_clicks >= {expected}"), 900, || async {
            self.total_clicks(code)
                .await
                .as_u64()
                .filter(|n| *n >= expected)
        })
        .await
    }
}

#[async_std::test]
async fn every_redirect_becomes_exactly_one_counted_click() {
    let (stack, _consumer) = Stack::start().await;
    let code = stack.shorten("https://example.com/e2e").await;

    stack.follow(&code, 200).await;

    assert_eq!(stack.wait_for_clicks(&code, 200).await, 200);
}

#[async_std::test]
async fn a_consumer_killed_mid_stream_and_restarted_counts_exactly() {
    let (stack, first) = Stack::start().await;
    first.kill();
    let code = stack.shorten("https://example.com/crash").await;
    stack.follow(&code, 2000).await;

    // Tiny batches, so the kill lands with work in flight and uncommitted.
    let small = stack.start_consumer(10);
    let before_kill = stack.wait_for_clicks(&code, 50).await;
    small.kill();
    assert!(
        before_kill < 2000,
        "the kill came too late to test anything"
    );

    let _replacement = stack.start_consumer(500);
    assert_eq!(stack.wait_for_clicks(&code, 2000).await, 2000);
}
