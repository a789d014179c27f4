//! analytics-rpc started as its binary starts it, on a free port.

use std::net::SocketAddr;

use adapter_grpc::proto::analytics_client::AnalyticsClient;
use async_std::channel::{Sender, bounded};
use async_std::task::JoinHandle;
use bootstrap::analytics_rpc::AnalyticsRpc;
use bootstrap::config::AnalyticsRpcConfig;
use tonic::transport::Channel;

pub(crate) struct TestRpc {
    pub(crate) addr: SocketAddr,
    stop: Sender<()>,
    running: JoinHandle<()>,
}

impl TestRpc {
    pub(crate) async fn spawn(database_url: &str) -> Self {
        Self::spawn_with(database_url, |_| {}).await
    }

    /// With some settings changed from the shipped defaults.
    pub(crate) async fn spawn_with(
        database_url: &str,
        configure: impl FnOnce(&mut AnalyticsRpcConfig),
    ) -> Self {
        let vars = [
            ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("DATABASE_URL", database_url.to_owned()),
            ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ];
        let env = crate::env_of(vars);
        let mut config = AnalyticsRpcConfig::load([], &env).unwrap();
        // As in url_api_app: no shedding on a CPU busy running tests.
        config.guards.shedding = false;
        configure(&mut config);
        let rpc = AnalyticsRpc::build(config).await.unwrap();
        let addr = rpc.local_addr();
        let (stop, stopped) = bounded::<()>(1);
        let running = async_std::task::spawn(async move {
            rpc.run_until(async move {
                let _ = stopped.recv().await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            stop,
            running,
        }
    }

    pub(crate) async fn client(&self) -> AnalyticsClient<Channel> {
        AnalyticsClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(()).await;
        self.running.await;
    }
}
