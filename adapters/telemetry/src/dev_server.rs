//! The dev server (go-zero's DevServer): `/metrics` and `/healthz` on their own port, apart
//! from the service's traffic.

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::probe::Probes;

/// A bound dev server; `serve` runs it on the tokio runtime until the process ends.
#[derive(Debug)]
pub struct DevServer {
    listener: TcpListener,
    metrics: Metrics,
    probes: Probes,
}

impl DevServer {
    /// Binds now, so a taken port fails at start.
    ///
    /// # Errors
    /// When the address can't be bound.
    pub async fn bind(addr: SocketAddr, metrics: Metrics, probes: Probes) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            metrics,
            probes,
        })
    }

    /// # Errors
    /// Only if the socket has gone away.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on a task of its own (needs a tokio context).
    pub fn spawn(self) {
        tokio::spawn(self.serve());
    }

    async fn serve(self) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "dev server accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let (metrics, probes) = (self.metrics.clone(), self.probes.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| respond(req, metrics.clone(), probes.clone()));
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(error = %e, "dev server connection ended");
                }
            });
        }
    }
}

async fn respond(
    req: Request<Incoming>,
    metrics: Metrics,
    probes: Probes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4",
            metrics.render(),
        ),
        "/healthz" => {
            let failures = probes.failures().await;
            if failures.is_empty() {
                (StatusCode::OK, "text/plain", "OK".to_owned())
            } else {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    failures.join("\n") + "\n",
                )
            }
        }
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Probe;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn serve(probes: Probes) -> SocketAddr {
        let metrics = Metrics::install("dev-server-test", "0.0.0").expect("metrics");
        let server = DevServer::bind("127.0.0.1:0".parse().expect("address"), metrics, probes)
            .await
            .expect("bind");
        let addr = server.local_addr().expect("address");
        server.spawn();
        addr
    }

    /// The raw response, as a prober or Prometheus would read it.
    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: dev\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        response
    }

    #[tokio::test]
    async fn metrics_are_prometheus_text_with_the_build_info() {
        let addr = serve(Probes::default()).await;
        let response = get(addr, "/metrics").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("content-type: text/plain; version=0.0.4\r\n"),
            "{response}"
        );
        assert!(
            response.contains(r#"build_info{service="dev-server-test",version="0.0.0"} 1"#),
            "{response}"
        );
    }

    #[tokio::test]
    async fn healthz_is_ok_only_while_every_probe_is_ready() {
        let ready = serve(Probes::new(vec![Probe::new("database", || async {
            Ok(())
        })]))
        .await;
        let response = get(ready, "/healthz").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nOK"), "{response}");

        let failing = serve(Probes::new(vec![
            Probe::new("database", || async { Ok(()) }),
            Probe::new("kafka", || async { Err("no brokers".to_owned()) }),
        ]))
        .await;
        let response = get(failing, "/healthz").await;
        assert!(
            response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{response}"
        );
        assert!(
            response.ends_with("\r\n\r\nkafka: no brokers\n"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn other_paths_are_not_found() {
        let addr = serve(Probes::default()).await;
        let response = get(addr, "/admin").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn a_taken_port_fails_at_bind() {
        let metrics = Metrics::install("dev-server-test", "0.0.0").expect("metrics");
        let taken = serve(Probes::default()).await;
        assert!(
            DevServer::bind(taken, metrics, Probes::default())
                .await
                .is_err()
        );
    }
}
