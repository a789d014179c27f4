//! url-api started the way its binary starts it, on a free port.

use std::net::SocketAddr;

use async_std::channel::{Sender, bounded};
use async_std::task::JoinHandle;
use bootstrap::config::UrlApiConfig;
use bootstrap::url_api::UrlApi;

pub(crate) const BASE_URL: &str = "http://sho.rt";

pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) client: reqwest::Client,
    stop: Sender<()>,
    running: JoinHandle<()>,
}

impl TestApp {
    pub(crate) async fn spawn(database_url: &str) -> Self {
        Self::spawn_with(database_url, |_| {}).await
    }

    /// With some settings changed from the shipped defaults.
    pub(crate) async fn spawn_with(
        database_url: &str,
        configure: impl FnOnce(&mut UrlApiConfig),
    ) -> Self {
        let vars = [
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("BASE_URL", BASE_URL.to_owned()),
            ("DATABASE_URL", database_url.to_owned()),
            ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ];
        let env = crate::env_of(vars);
        let mut config = UrlApiConfig::load([], &env).expect("test config");
        // The test machine's CPU is busy running tests: shedding would make results depend on
        // it. The shedder is tested on its own, with an injected CPU.
        config.guards.shedding = false;
        configure(&mut config);
        let api = UrlApi::build(config).await.expect("url-api starts");
        let addr = api.local_addr();
        let (stop, stopped) = bounded::<()>(1);
        let running = async_std::task::spawn(api.run_until(async move {
            let _ = stopped.recv().await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            addr,
            client,
            stop,
            running,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn shorten(&self, original_url: &str) -> serde_json::Value {
        let res = self
            .client
            .post(self.url("/api/v1/urls"))
            .json(&serde_json::json!({ "original_url": original_url }))
            .send()
            .await
            .expect("POST /api/v1/urls");
        assert_eq!(res.status(), 201, "shorten {original_url}");
        res.json().await.expect("JSON body")
    }

    /// Stops the server the way SIGTERM does and waits for it to finish draining.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(()).await;
        self.running.await;
    }
}
