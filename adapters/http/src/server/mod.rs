//! url-api's HTTP server, whichever the engine: hyper's HTTP/1 on the engine's runtime, the
//! client timeouts of [`deadlines`] on every connection, and the [`pipeline`] of tower layers
//! in front of the engine. hyper gives HTTP/1.0 and 1.1, keep-alive, pipelining, 400/414/431
//! for malformed requests and graceful shutdown.

mod body_read;
mod deadlines;
mod guards;
mod linger;
mod metrics;
mod observed;
pub(crate) mod pipeline;
mod request_span;
mod runtime;
mod well_formed;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use application::Links;
use bytes::Bytes;
use futures::future::{Either, select};
use http::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use http::{Method, Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::server::graceful::GracefulShutdown;
use smol_hyper::rt::FuturesIo;
use tower::ServiceExt;
use tower_service::Service;

pub use self::deadlines::ClientTimeouts;

use self::body_read::Tracked;
use self::deadlines::{Answering, TimedStream};
use self::linger::{Linger, Lingering};
use self::runtime::{AsyncStd, Runtime, Tokio};
use crate::api::{Api, BoxError, Peer};
use crate::engine;
use crate::{Engine, HttpSettings};

/// The largest request head (request line and headers) read; more gets 431. hyper's default
/// takes a 64 KiB header whole.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// url-api's HTTP server: the API on a bound listener, served by the settings' engine.
pub struct HttpServer {
    listener: std::net::TcpListener,
    api: Api,
}

impl HttpServer {
    /// Binds now, so a taken port fails at start and port 0 reports the port it got.
    ///
    /// # Errors
    /// When the address can't be bound.
    pub fn bind(
        addr: SocketAddr,
        links: Arc<dyn Links>,
        settings: HttpSettings,
    ) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            api: Api::new(links, settings),
        })
    }

    /// # Errors
    /// Only if the socket has gone away.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The engine that will serve.
    pub fn engine(&self) -> Engine {
        self.api.settings.engine
    }

    /// Serves until `shutdown` completes, then drains through hyper's graceful shutdown: no new
    /// connections, idle ones closed, requests in flight answered (with `Connection: close`)
    /// for up to the drain timeout; what is still open then is dropped. Call it on the
    /// engine's runtime: async-std for tide, tokio for axum.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let settings = Arc::clone(&self.api.settings);
        match settings.engine {
            Engine::Tide => {
                let service = pipeline::guarded(engine::tide::service(self.api), &settings);
                serve::<AsyncStd, _, _>(self.listener, service, &settings, shutdown).await;
            }
            Engine::Axum => {
                let service = pipeline::guarded(engine::axum::service(self.api), &settings);
                serve::<Tokio, _, _>(self.listener, service, &settings, shutdown).await;
            }
        }
    }
}

async fn serve<R, S, B>(
    listener: std::net::TcpListener,
    service: S,
    settings: &HttpSettings,
    shutdown: impl Future<Output = ()>,
) where
    R: Runtime,
    S: Service<Request<Tracked<Incoming>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let listener = match R::listen(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "the listener could not be adopted");
            return;
        }
    };
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.max_header_size(MAX_HEAD_BYTES)
        // The client timeouts are the stream's (see `deadlines`): hyper's would join them.
        .header_read_timeout(None);
    // Dropping `closed` ends every connection task that outlived the drain.
    let (closed, closed_rx) = async_channel::bounded::<()>(1);
    let draining = Arc::new(AtomicBool::new(false));
    let connections = Connections {
        service,
        http: &http,
        graceful: &graceful,
        timeouts: settings.client_timeouts,
        closed: &closed_rx,
        draining: &draining,
    };
    if let Either::Left(_) = select(pin!(shutdown), pin!(connections.accept::<R>(&listener))).await
    {
        tracing::info!("shutting down: no new connections, draining requests");
    }
    drop(listener);
    draining.store(true, Ordering::SeqCst);
    match tokio::time::timeout(settings.drain_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("every connection drained"),
        Err(_) => tracing::warn!("drain timeout: abandoning requests still in flight"),
    }
    drop(closed);
}

struct Connections<'a, S> {
    service: S,
    http: &'a http1::Builder,
    graceful: &'a GracefulShutdown,
    timeouts: ClientTimeouts,
    closed: &'a async_channel::Receiver<()>,
    /// Set once shutdown began: answers then say `Connection: close`, so that no client sends
    /// another request on a connection that is about to close.
    draining: &'a Arc<AtomicBool>,
}

impl<S, B> Connections<'_, S>
where
    S: Service<Request<Tracked<Incoming>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    async fn accept<R: Runtime>(&self, listener: &R::Listener) {
        loop {
            match R::accept(listener).await {
                Ok((stream, remote)) => self.serve::<R>(stream, remote),
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// One connection, in a task of its own, until it closes or the server is gone.
    fn serve<R: Runtime>(&self, stream: R::Stream, remote: SocketAddr) {
        let peer = Peer(remote);
        let (answering, linger) = (Answering::default(), Linger::default());
        let stream = Lingering::new(stream, linger.clone());
        let io = FuturesIo::new(TimedStream::new(stream, self.timeouts, answering.clone()));
        let (service, draining) = (self.service.clone(), Arc::clone(self.draining));
        let service = service_fn(move |mut req: Request<Incoming>| {
            let answered = answering.begin();
            let head = req.method() == Method::HEAD;
            req.extensions_mut().insert(peer);
            let (req, body_read) = Tracked::request(req);
            let answer = service.clone().oneshot(req);
            let (draining, linger) = (Arc::clone(&draining), linger.clone());
            async move {
                let mut res = match answer.await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                drop(answered);
                if head {
                    content_length(&mut res);
                }
                // hyper closes a connection whose request body was left unread (a route that
                // refused the request before reading it): the response must say so, or a
                // client would send its next request into a closed socket; and the close
                // lingers, for the client may still be sending that body.
                let unread = body_read.left_unread();
                if unread {
                    linger.on_close();
                }
                if draining.load(Ordering::SeqCst) || unread {
                    res.headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(res)
            }
        });
        let connection = self.graceful.watch(self.http.serve_connection(io, service));
        let closed = self.closed.clone();
        R::spawn(async move {
            if let Either::Left((Err(e), _)) = select(pin!(connection), pin!(closed.recv())).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// A HEAD answer's `Content-Length`: the GET's, as RFC 9110 §9.3.2 has it. hyper leaves it out
/// of HEAD answers (it sends no body), and a client that doesn't remember it asked HEAD would
/// wait for the close to find the end.
fn content_length<B: hyper::body::Body>(res: &mut Response<B>) {
    if res.headers().contains_key(CONTENT_LENGTH) {
        return;
    }
    if let Some(length) = res.body().size_hint().exact() {
        res.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::mpsc;

    use application::MockLinks;
    use domain::LongUrl;
    use rstest::rstest;

    use super::*;

    fn get(addr: SocketAddr, path: &str) -> io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }

    /// A server on a free port, run on its engine's runtime in a thread of its own, as the
    /// binaries run it.
    struct Serving {
        addr: SocketAddr,
        stop: async_channel::Sender<()>,
        thread: std::thread::JoinHandle<()>,
    }

    impl Serving {
        fn start(links: Arc<dyn Links>, settings: HttpSettings) -> Self {
            let engine = settings.engine;
            let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), links, settings).unwrap();
            let addr = server.local_addr().unwrap();
            let (stop, stopped) = async_channel::bounded::<()>(1);
            let thread = std::thread::spawn(move || {
                run_on(
                    engine,
                    server.serve(async move {
                        let _ = stopped.recv().await;
                    }),
                );
            });
            Self { addr, stop, thread }
        }

        /// Tells it to shut down, and returns what waits for it to finish.
        fn stopping(self) -> std::thread::JoinHandle<()> {
            self.stop.send_blocking(()).unwrap();
            self.thread
        }

        fn stop(self) {
            self.stopping().join().unwrap();
        }
    }

    /// Runs `serving` on the engine's runtime, as the binaries do.
    fn run_on(engine: Engine, serving: impl Future<Output = ()>) {
        match engine {
            Engine::Tide => async_std::task::block_on(serving),
            Engine::Axum => tokio::runtime::Runtime::new().unwrap().block_on(serving),
        }
    }

    /// A body refused for its declared length (413) is one the client may still be sending:
    /// the server lingers, so the client can send all of it, where closing at once would reset
    /// the connection under its writes (and could destroy the response before it is read).
    #[rstest]
    fn a_client_still_sending_a_refused_body_is_not_reset(
        #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    ) {
        let settings = HttpSettings {
            engine,
            ..crate::tests::settings()
        };
        let server = Serving::start(Arc::new(MockLinks::new()), settings);
        let addr = server.addr;

        let mut client = TcpStream::connect(addr).unwrap();
        let chunk = [b'x'; 64 * 1024];
        let length = 64 * chunk.len();
        write!(
            client,
            "POST /api/v1/urls HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\n\r\n"
        )
        .unwrap();
        // The answer comes before the body is sent: the length alone refuses it.
        let mut head = [0; 12];
        client.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
        let sent = (0..64).try_for_each(|_| client.write_all(&chunk));

        assert!(sent.is_ok(), "the body's writes failed: {sent:?}");
        server.stop();
    }

    /// A HEAD is answered with the GET's length, on either engine: the redirect's (0), and the
    /// OpenAPI document's (a GET route's HEAD).
    #[rstest]
    fn a_head_answer_says_how_long_the_get_answer_is(
        #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    ) {
        let mut links = MockLinks::new();
        links.expect_admit().returning(|_, _, _| Ok(None));
        links
            .expect_resolve()
            .returning(|_| Ok(LongUrl::parse("https://example.com/").unwrap()));
        let settings = HttpSettings {
            engine,
            ..crate::tests::settings()
        };
        let server = Serving::start(Arc::new(links), settings);
        let addr = server.addr;
        let document = crate::api::openapi::DOCUMENT.len();

        for (path, length) in [("/abcDEF12", 0), ("/api/v1/openapi.json", document)] {
            let mut stream = TcpStream::connect(addr).unwrap();
            write!(
                stream,
                "HEAD {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            assert!(
                response.contains(&format!("content-length: {length}\r\n")),
                "HEAD {path}: {response}"
            );
            assert!(response.ends_with("\r\n\r\n"), "a body: {response}");
        }
        server.stop();
    }

    #[rstest]
    fn shutdown_lets_the_request_in_flight_finish_and_refuses_new_ones(
        #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    ) {
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
        let settings = HttpSettings {
            drain_timeout: Duration::from_secs(30),
            engine,
            ..crate::tests::settings()
        };
        let server = Serving::start(Arc::new(links), settings);
        let addr = server.addr;

        let in_flight = std::thread::spawn(move || get(addr, "/abcDEF12"));
        handler_started.recv().unwrap();
        let stopping = server.stopping();
        // Once the listener is closed, new connections are refused.
        let mut refused = false;
        for _ in 0..500 {
            if TcpStream::connect(addr).is_err() {
                refused = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(refused, "still accepting connections after shutdown");
        release.send(()).unwrap();

        let response = in_flight.join().unwrap().unwrap();
        assert!(response.starts_with("HTTP/1.1 302"), "{response}");
        assert!(response.contains("connection: close"), "{response}");
        stopping.join().unwrap();
    }
}
