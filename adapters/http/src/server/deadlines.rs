//! How long a client may keep a connection waiting, enforced on the connection's reads.
//!
//! hyper's own `header_read_timeout` starts when the server is ready for the next request, so it
//! bounds idle keep-alive time and slow headers with one number. Clients and proxies expect two
//! (Go's `IdleTimeout` and `ReadHeaderTimeout`, nginx's `keepalive_timeout` and
//! `client_header_timeout`), so both are kept here instead:
//! - **idle**: between requests on a kept-alive connection, how long until the next request's
//!   first byte;
//! - **header**: from a request's first byte (or from the accept, for a new connection, which
//!   a client opens to send a request at once), how long until the request has been read.
//!
//! While a request is being answered no deadline applies: the request timeout bounds it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use futures::task::AtomicWaker;

/// The two client deadlines of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// A request's head must be read within this long of its first byte.
    pub header: Duration,
    /// A kept-alive connection may wait this long for the next request.
    pub idle: Duration,
}

/// Whether a connection is answering a request, as the service tells its stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answering(Arc<AnsweringState>);

#[derive(Debug, Default)]
struct AnsweringState {
    /// Even: between requests (twice the count of those answered); odd: answering one.
    count: AtomicU64,
    /// The connection's reader, woken when a request has been answered: hyper does not read
    /// again on its own while its last read is pending, so the idle deadline would otherwise
    /// start only when the client sends something.
    reader: AtomicWaker,
}

impl Answering {
    /// Marks a request as being answered until the returned guard is dropped.
    pub(crate) fn begin(&self) -> AnsweringGuard {
        self.0.count.fetch_or(1, Ordering::SeqCst);
        AnsweringGuard(Arc::clone(&self.0))
    }

    fn now(&self) -> u64 {
        self.0.count.load(Ordering::SeqCst)
    }
}

/// Ends the request's answering however the service's future ends.
pub(crate) struct AnsweringGuard(Arc<AnsweringState>);

impl Drop for AnsweringGuard {
    fn drop(&mut self) {
        // Odd to the next even number: not answering, one more request done.
        self.0.count.fetch_add(1, Ordering::SeqCst);
        self.0.reader.wake();
    }
}

/// What a connection waits for from its client, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// The first byte of the next request, until the idle deadline.
    ForRequest(Instant),
    /// The rest of a request's head, until the header deadline.
    ForHead(Instant),
    /// Nothing: a request is being answered.
    Nothing,
}

/// A connection's stream, whose reads fail with `TimedOut` once a deadline has passed.
///
/// The timer is armed lazily, only when a read has to wait, and is left alone while the
/// deadline only moves later: a busy keep-alive connection re-arms it about once an idle timeout
/// rather than at every request (a timer change is a lock and a reactor wake-up in async-io).
pub(crate) struct TimedStream<S> {
    inner: S,
    timeouts: ClientTimeouts,
    answering: Answering,
    /// `answering`'s value when this stream last looked.
    seen: u64,
    waiting: Waiting,
    /// When `timer` fires; `None` when it is not armed.
    armed: Option<Instant>,
    timer: Timer,
}

impl<S> TimedStream<S> {
    pub(crate) fn new(inner: S, timeouts: ClientTimeouts, answering: Answering) -> Self {
        Self {
            inner,
            timeouts,
            answering,
            seen: 0,
            waiting: Waiting::ForHead(Instant::now() + timeouts.header),
            armed: None,
            timer: Timer::never(),
        }
    }

    /// Follows the service: a request being answered suspends the deadlines, and one answered
    /// starts the idle deadline.
    fn follow_service(&mut self) {
        let now = self.answering.now();
        if now % 2 == 1 {
            self.waiting = Waiting::Nothing;
        } else if now != self.seen {
            self.waiting = Waiting::ForRequest(Instant::now() + self.timeouts.idle);
        }
        self.seen = now;
    }

    /// Whether `deadline` has passed; if not, the timer will wake this task by then.
    fn expired(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        loop {
            if self.armed.is_none_or(|armed| armed > deadline) {
                self.timer.set_at(deadline);
                self.armed = Some(deadline);
            }
            match Pin::new(&mut self.timer).poll(cx) {
                Poll::Pending => return false,
                Poll::Ready(_) => {
                    self.armed = None;
                    if Instant::now() >= deadline {
                        return true;
                    }
                    // It fired for an earlier deadline since moved later: arm it again.
                }
            }
        }
    }
}

impl<S: futures::AsyncRead + Unpin> futures::AsyncRead for TimedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.answering.0.reader.register(cx.waker());
        self.follow_service();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        let (deadline, what) = match (&read, self.waiting) {
            (Poll::Ready(Ok(n)), Waiting::ForRequest(_)) if *n > 0 => {
                self.waiting = Waiting::ForHead(Instant::now() + self.timeouts.header);
                return read;
            }
            (Poll::Pending, Waiting::ForRequest(deadline)) => {
                (deadline, "idle connection timed out")
            }
            (Poll::Pending, Waiting::ForHead(deadline)) => {
                (deadline, "request head not received in time")
            }
            _ => return read,
        };
        if self.expired(cx, deadline) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
        }
        read
    }
}

impl<S: futures::AsyncWrite + Unpin> futures::AsyncWrite for TimedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::AsyncReadExt;
    use futures::io::Cursor;

    use super::*;

    /// A reader that yields its bytes, then never anything more.
    struct ThenSilent(Cursor<Vec<u8>>);

    impl futures::AsyncRead for ThenSilent {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            match Pin::new(&mut self.0).poll_read(cx, buf) {
                Poll::Ready(Ok(0)) => Poll::Pending,
                other => other,
            }
        }
    }

    const TIMEOUTS: ClientTimeouts = ClientTimeouts {
        header: Duration::from_millis(40),
        idle: Duration::from_millis(400),
    };

    fn stream(bytes: &[u8], answering: &Answering) -> TimedStream<ThenSilent> {
        TimedStream::new(
            ThenSilent(Cursor::new(bytes.to_vec())),
            TIMEOUTS,
            answering.clone(),
        )
    }

    async fn read_until_error(stream: &mut TimedStream<ThenSilent>) -> io::Error {
        let mut buf = [0; 64];
        loop {
            if let Err(e) = stream.read(&mut buf).await {
                return e;
            }
        }
    }

    #[async_std::test]
    async fn a_silent_new_connection_gets_the_header_deadline() {
        let answering = Answering::default();
        let mut silent = stream(b"GET / HT", &answering);

        let e = read_until_error(&mut silent).await;

        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(e.to_string(), "request head not received in time");
    }

    /// A kept-alive connection whose one request has been read and answered.
    async fn answered_once(answering: &Answering) -> TimedStream<ThenSilent> {
        let mut kept = stream(b"GET / HTTP/1.1\r\n\r\n", answering);
        let mut buf = [0; 64];
        assert!(kept.read(&mut buf).await.unwrap() > 0);
        drop(answering.begin());
        kept
    }

    #[async_std::test]
    async fn between_requests_the_idle_deadline_applies() {
        let answering = Answering::default();
        let mut kept = answered_once(&answering).await;
        let started = Instant::now();

        let e = read_until_error(&mut kept).await;

        assert_eq!(e.to_string(), "idle connection timed out");
        // A timer never fires early: this bound can't flake.
        assert!(
            started.elapsed() >= TIMEOUTS.idle,
            "{:?}",
            started.elapsed()
        );
    }

    #[async_std::test]
    async fn a_request_answered_meanwhile_moves_the_idle_deadline_later() {
        let answering = Answering::default();
        let mut kept = answered_once(&answering).await;
        let started = Instant::now();
        // Another request is answered before the first idle deadline: the wait starts again.
        let later = answering.clone();
        async_std::task::spawn(async move {
            async_std::task::sleep(TIMEOUTS.idle / 2).await;
            drop(later.begin());
        });

        let e = read_until_error(&mut kept).await;

        assert_eq!(e.to_string(), "idle connection timed out");
        assert!(
            started.elapsed() >= TIMEOUTS.idle * 3 / 2,
            "{:?}",
            started.elapsed()
        );
    }

    #[async_std::test]
    async fn no_deadline_while_a_request_is_answered() {
        let answering = Answering::default();
        let mut busy = stream(b"POST / HTTP/1.1\r\n\r\n", &answering);
        let answer = answering.begin();
        let mut buf = [0; 64];
        assert!(busy.read(&mut buf).await.unwrap() > 0);

        let waited = futures::future::select(
            Box::pin(busy.read(&mut buf)),
            Box::pin(Timer::after(TIMEOUTS.header * 3)),
        )
        .await;

        assert!(
            matches!(waited, futures::future::Either::Right(_)),
            "a read timed out while the request was being answered"
        );
        drop(answer);
    }
}
