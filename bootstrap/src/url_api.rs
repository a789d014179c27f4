//! url-api: the HTTP link service, wired.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use adapter_http::{HttpServer, HttpSettings};
use adapter_postgres::PgUrlRepo;
use application::LinkService;
use application::ports::{RandomCodes, SystemClock};

use crate::config::UrlApiConfig;
use crate::placeholders::{LoggingClickPublisher, UnavailableAnalytics};

/// A url-api that is bound and ready to serve.
pub struct UrlApi {
    server: HttpServer,
    addr: SocketAddr,
}

/// Why url-api could not start.
#[derive(Debug)]
pub struct StartError(String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl UrlApi {
    /// Wires the ports and binds the listener. The database pool is lazy: a database that is
    /// down makes requests fail with 503 until it is back, not the start.
    ///
    /// # Errors
    /// When the database URL is unusable or the address can't be bound.
    pub async fn build(config: UrlApiConfig) -> Result<Self, StartError> {
        let db = adapter_postgres::connect(&config.database)
            .await
            .map_err(|e| StartError(format!("DATABASE_URL: {e}")))?;
        let links = LinkService::new(
            PgUrlRepo::new(db),
            LoggingClickPublisher,
            UnavailableAnalytics,
            RandomCodes,
            SystemClock,
        );
        let settings = HttpSettings {
            base_url: config.base_url,
            max_body_bytes: config.max_body_bytes,
            trust_proxy_headers: config.trust_proxy_headers,
            drain_timeout: config.drain_timeout,
        };
        let server = HttpServer::bind(config.http_addr, Arc::new(links), settings)
            .await
            .map_err(|e| {
                StartError(format!(
                    "HTTP_ADDR: cannot listen on {}: {e}",
                    config.http_addr
                ))
            })?;
        let addr = server
            .local_addr()
            .map_err(|e| StartError(format!("HTTP_ADDR: {e}")))?;
        Ok(Self { server, addr })
    }

    /// The address actually bound (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(addr = %self.addr, "url-api listening");
        self.server.serve(shutdown).await;
        tracing::info!("url-api stopped");
    }
}
