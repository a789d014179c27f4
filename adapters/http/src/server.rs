//! The accept loop. tide's own `listen` runs forever; this one stops accepting on shutdown,
//! lets in-flight requests finish (up to a deadline), and only then closes the connections.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_h1::server::{ConnectionStatus, Server};
use async_std::channel::Receiver;
use async_std::net::{TcpListener, TcpStream};
use futures::FutureExt;
use futures::future::{Either, select};
use tide::http::headers::CONNECTION;
use tide::http::{Request, Response};

use application::Links;

use crate::problem::Problem;
use crate::state::{HttpSettings, State};
use crate::{Guards, app};

/// After a response that closes its connection (its request body left unread), read at most this
/// much more of the request before closing. Closing with unread data makes the kernel reset the
/// connection, and the client may then never see the response; lingering a little avoids that
/// without letting an endless upload hold the connection.
const LINGER_BYTES: u64 = 4 * 1024 * 1024;

/// url-api's HTTP server: the app of [`crate::app`] on a bound listener.
pub struct HttpServer {
    listener: TcpListener,
    app: tide::Server<State>,
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
        guards: Guards,
    ) -> io::Result<Self> {
        let drain_timeout = settings.drain_timeout;
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            app: app(links, settings, guards),
            drain_timeout,
        })
    }

    /// # Errors
    /// Only if the socket has gone away.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains: no new connections, `Connection: close`
    /// on every response, and a wait of up to the drain timeout for in-flight requests.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Self {
            listener,
            app,
            drain_timeout,
        } = self;
        let tracker = Arc::new(Tracker::default());
        // Dropping `closed` tells every connection task to stop.
        let (closed, closed_rx) = async_std::channel::bounded::<()>(1);
        let accepting = accept_loop(&listener, &app, &tracker, &closed_rx);
        if let Either::Left(_) = select(pin!(shutdown), pin!(accepting)).await {
            tracing::info!("shutting down: no new connections, draining requests");
        }
        drop(listener);
        tracker.draining.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + drain_timeout;
        while tracker.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            async_std::task::sleep(Duration::from_millis(10)).await;
        }
        let left = tracker.in_flight.load(Ordering::SeqCst);
        if left > 0 {
            tracing::warn!(left, "drain timeout: abandoning requests still in flight");
        }
        drop(closed);
    }
}

#[derive(Default)]
struct Tracker {
    in_flight: AtomicUsize,
    draining: AtomicBool,
}

async fn accept_loop<S: Clone + Send + Sync + 'static>(
    listener: &TcpListener,
    app: &tide::Server<S>,
    tracker: &Arc<Tracker>,
    closed: &Receiver<()>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // async-h1 writes a response's head and body separately: with Nagle's algorithm
                // on, the body waits for the client's delayed ACK of the head (about 40 ms).
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY refused");
                }
                let connection = connection(stream, peer, app.clone(), tracker.clone());
                let closed = closed.clone();
                async_std::task::spawn(async move {
                    select(pin!(connection), pin!(closed.recv())).await;
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                async_std::task::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection<S: Clone + Send + Sync + 'static>(
    stream: TcpStream,
    peer: SocketAddr,
    app: tide::Server<S>,
    tracker: Arc<Tracker>,
) {
    let local = stream.local_addr().ok().map(|a| a.to_string());
    let peer = peer.to_string();
    let stream = LingeringStream::new(stream);
    let linger = stream.budget.clone();
    let busy = Arc::new(AtomicBool::new(false));
    let endpoint = |mut req: Request| {
        let (app, tracker, busy, linger) =
            (app.clone(), tracker.clone(), busy.clone(), linger.clone());
        req.set_local_addr(local.clone());
        req.set_peer_addr(Some(peer.clone()));
        let body = Watched::body_of(&mut req);
        async move {
            tracker.in_flight.fetch_add(1, Ordering::SeqCst);
            busy.store(true, Ordering::SeqCst);
            let mut res = respond(&app, req).await;
            // async-h1 reads what is left of an unread body after the response, through a
            // buffer that can swallow the start of the client's next request on the
            // connection, which then hangs. A connection whose body was left unread is closed
            // instead (a 405 with a body, a DELETE carrying JSON, an upload refused with 413).
            if !body.finished() || tracker.draining.load(Ordering::SeqCst) {
                res.insert_header(CONNECTION, "close");
                let _ = linger.compare_exchange(
                    u64::MAX,
                    LINGER_BYTES,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
            }
            Ok(res)
        }
    };
    let mut server = Server::new(stream, endpoint);
    loop {
        let status = server.accept_one().await;
        // The response is written (or failed) by now: only then is the request done.
        if busy.swap(false, Ordering::SeqCst) {
            tracker.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        match status {
            Ok(ConnectionStatus::KeepAlive) => {}
            Ok(ConnectionStatus::Close) => break,
            Err(e) => {
                tracing::debug!(error = %e, "connection ended with an error");
                break;
            }
        }
    }
}

/// The app's response; a handler that panics or fails gets a 500 problem and the server lives.
async fn respond<S: Clone + Send + Sync + 'static>(
    app: &tide::Server<S>,
    req: Request,
) -> Response {
    match AssertUnwindSafe(app.respond::<Request, Response>(req))
        .catch_unwind()
        .await
    {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => Problem::internal(&e).into_http(),
        Err(_) => Problem::internal(&"handler panicked").into_http(),
    }
}

/// A request body that says whether it was read to its end.
struct Watched {
    inner: tide::http::Body,
    finished: Arc<AtomicBool>,
}

/// Whether a request's body was read to its end; a request without one (every redirect) needs
/// no watching.
struct BodyRead(Option<Arc<AtomicBool>>);

impl BodyRead {
    fn finished(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|read| read.load(Ordering::SeqCst))
    }
}

impl Watched {
    /// Swaps the request's body, if it has one, for a watched one.
    fn body_of(req: &mut Request) -> BodyRead {
        let has_body = req.len().map_or_else(
            || req.header(tide::http::headers::TRANSFER_ENCODING).is_some(),
            |len| len > 0,
        );
        if !has_body {
            return BodyRead(None);
        }
        let finished = Arc::new(AtomicBool::new(false));
        let len = req.len();
        let watched = Self {
            inner: req.take_body(),
            finished: Arc::clone(&finished),
        };
        req.set_body(tide::http::Body::from_reader(watched, len));
        BodyRead(Some(finished))
    }
}

impl futures::AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(0)) = read
            && !buf.is_empty()
        {
            self.finished.store(true, Ordering::SeqCst);
        }
        read
    }
}

impl futures::AsyncBufRead for Watched {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        let filled = Pin::new(&mut this.inner).poll_fill_buf(cx);
        if let Poll::Ready(Ok([])) = filled {
            this.finished.store(true, Ordering::SeqCst);
        }
        filled
    }

    fn consume(mut self: Pin<&mut Self>, amount: usize) {
        Pin::new(&mut self.inner).consume(amount);
    }
}

/// A TCP stream whose reads can be capped after the fact (see [`LINGER_BYTES`]).
#[derive(Clone)]
struct LingeringStream {
    stream: TcpStream,
    /// Bytes still allowed to be read; `u64::MAX` until a closing response arms it.
    budget: Arc<AtomicU64>,
}

impl LingeringStream {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            budget: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }
}

impl futures::AsyncRead for LingeringStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let budget = self.budget.load(Ordering::SeqCst);
        if budget == 0 {
            return Poll::Ready(Ok(0));
        }
        let max = usize::try_from(budget).unwrap_or(usize::MAX).min(buf.len());
        let read = Pin::new(&mut self.stream).poll_read(cx, &mut buf[..max]);
        if let Poll::Ready(Ok(n)) = read
            && budget != u64::MAX
        {
            self.budget.fetch_sub(n as u64, Ordering::SeqCst);
        }
        read
    }
}

impl futures::AsyncWrite for LingeringStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
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
            base_url: "http://sho.rt".into(),
            max_body_bytes: 1024,
            trust_proxy_headers: false,
            drain_timeout: Duration::from_secs(30),
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
        links.expect_redirect().once().returning(move |_, _| {
            started.send(()).unwrap();
            // Blocks this worker thread until the test says so: a request held in flight.
            handler_released.lock().unwrap().recv().unwrap();
            Ok(LongUrl::parse("https://example.com/").unwrap())
        });
        let server = HttpServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(links),
            settings(),
            vec![],
        )
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
