//! url-api's HTTP server: hyper's HTTP/1 on async-std, every request answered by tide's app
//! (see [`crate::bridge`]). hyper gives HTTP/1.0 and 1.1, keep-alive, pipelining, 400/414/431
//! for malformed requests and graceful shutdown; this module accepts connections and applies
//! the client timeouts of [`crate::deadlines`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use application::Links;
use async_std::channel::Receiver;
use async_std::net::{TcpListener, TcpStream};
use bytes::Bytes;
use futures::future::{Either, select};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::server::graceful::GracefulShutdown;
use smol_hyper::rt::FuturesIo;

use crate::bridge::{self, BodyRead};
use crate::deadlines::{Answering, ClientTimeouts, TimedStream};
use crate::pipeline::app;
use crate::problem::Problem;
use crate::state::{HttpSettings, State};

/// The largest request head (request line and headers) read; more gets 431. hyper's default
/// takes a 64 KiB header whole.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// url-api's HTTP server: the app of [`crate::pipeline`] on a bound listener.
pub struct HttpServer {
    listener: TcpListener,
    app: tide::Server<State>,
    client_timeouts: ClientTimeouts,
    drain_timeout: Duration,
}

impl HttpServer {
    /// Binds now, so a taken port fails at start and port 0 reports the port it got.
    ///
    /// # Errors
    /// When the address can't be bound.
    pub async fn bind(
        addr: SocketAddr,
        links: Arc<dyn Links>,
        settings: HttpSettings,
    ) -> io::Result<Self> {
        let (client_timeouts, drain_timeout) = (settings.client_timeouts, settings.drain_timeout);
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            app: app(links, settings),
            client_timeouts,
            drain_timeout,
        })
    }

    /// # Errors
    /// Only if the socket has gone away.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains through hyper's graceful shutdown: no new
    /// connections, idle ones closed, requests in flight answered (with `Connection: close`)
    /// for up to the drain timeout; what is still open then is dropped.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut http = http1::Builder::new();
        http.max_header_size(MAX_HEAD_BYTES)
            // The client timeouts are the stream's (see `deadlines`): hyper's would join them.
            .header_read_timeout(None);
        // Dropping `closed` ends every connection task that outlived the drain.
        let (closed, closed_rx) = async_std::channel::bounded::<()>(1);
        let draining = Arc::new(AtomicBool::new(false));
        let connections = Connections {
            app: &self.app,
            http: &http,
            graceful: &graceful,
            timeouts: self.client_timeouts,
            closed: &closed_rx,
            draining: &draining,
        };
        if let Either::Left(_) =
            select(pin!(shutdown), pin!(connections.accept(&self.listener))).await
        {
            tracing::info!("shutting down: no new connections, draining requests");
        }
        drop(self.listener);
        draining.store(true, Ordering::SeqCst);
        match async_std::future::timeout(self.drain_timeout, graceful.shutdown()).await {
            Ok(()) => tracing::info!("every connection drained"),
            Err(_) => tracing::warn!("drain timeout: abandoning requests still in flight"),
        }
        drop(closed);
    }
}

struct Connections<'a> {
    app: &'a tide::Server<State>,
    http: &'a http1::Builder,
    graceful: &'a GracefulShutdown,
    timeouts: ClientTimeouts,
    closed: &'a Receiver<()>,
    /// Set once shutdown began: answers then say `Connection: close`, so that no client sends
    /// another request on a connection that is about to close.
    draining: &'a Arc<AtomicBool>,
}

impl Connections<'_> {
    async fn accept(&self, listener: &TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => self.serve(stream, peer),
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    async_std::task::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// One connection, in a task of its own, until it closes or the server is gone.
    fn serve(&self, stream: TcpStream, peer: SocketAddr) {
        // Small responses are written whole; don't hold them back for the client's ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY refused");
        }
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let answering = Answering::default();
        let io = FuturesIo::new(TimedStream::new(stream, self.timeouts, answering.clone()));
        let (app, draining) = (self.app.clone(), Arc::clone(self.draining));
        let service = service_fn(move |req| {
            let (app, answering, draining) = (app.clone(), answering.clone(), draining.clone());
            async move {
                let _answering = answering.begin();
                let mut res = answer(&app, req, peer, local).await;
                if draining.load(Ordering::SeqCst) {
                    res.headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(res)
            }
        });
        let connection = self.graceful.watch(self.http.serve_connection(io, service));
        let closed = self.closed.clone();
        async_std::task::spawn(async move {
            if let Either::Left((Err(e), _)) = select(pin!(connection), pin!(closed.recv())).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// tide's answer to one request that hyper read.
async fn answer(
    app: &tide::Server<State>,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let mut body_read = BodyRead::default();
    let res = match bridge::request(req, peer, local, &mut body_read) {
        Ok(req) => app
            .respond(req)
            .await
            .unwrap_or_else(|e| Problem::internal(&e).into_http()),
        Err(refused) => *refused,
    };
    let mut res = bridge::response(res).await;
    if body_read.left_unread() {
        res.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use application::MockLinks;
    use async_std::io::{ReadExt, WriteExt};
    use domain::LongUrl;

    use super::*;

    fn settings() -> HttpSettings {
        HttpSettings {
            drain_timeout: Duration::from_secs(30),
            ..crate::tests::settings()
        }
    }

    async fn get(addr: SocketAddr, path: &str) -> io::Result<String> {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok(response)
    }

    #[async_std::test]
    async fn shutdown_lets_the_request_in_flight_finish_and_refuses_new_ones() {
        let (started, handler_started) = mpsc::channel::<()>();
        let (release, handler_released) = mpsc::channel::<()>();
        let handler_released = std::sync::Mutex::new(handler_released);
        let mut links = MockLinks::new();
        links.expect_admit().returning(|_, _, _| Ok(None));
        links.expect_redirect().once().returning(move |_, _| {
            started.send(()).unwrap();
            // Blocks this worker thread until the test says so: a request held in flight.
            handler_released.lock().unwrap().recv().unwrap();
            Ok(LongUrl::parse("https://example.com/").unwrap())
        });
        let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), Arc::new(links), settings())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = async_std::channel::bounded::<()>(1);
        let serving = async_std::task::spawn(server.serve(async move {
            let _ = stopped.recv().await;
        }));

        let in_flight = async_std::task::spawn(get(addr, "/abcDEF12"));
        async_std::task::spawn_blocking(move || handler_started.recv().unwrap()).await;
        stop.send(()).await.unwrap();
        // Once the listener is closed, new connections are refused.
        let mut refused = false;
        for _ in 0..500 {
            if TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            async_std::task::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "still accepting connections after shutdown");
        release.send(()).unwrap();

        let response = in_flight.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 302"), "{response}");
        assert!(response.contains("connection: close"), "{response}");
        serving.await;
    }
}
