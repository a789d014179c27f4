//! A lingering close, as nginx's `lingering_close`: a connection closed with a request body
//! left unread (a request refused before its body was read, such as a 413 for its declared
//! length) may still have a client sending that body. Closing at once would make the kernel
//! answer the client's next bytes with a reset, which can destroy the response before the
//! client reads it. So the write side is shut first (the client has the response and its end),
//! and what the client still sends is read and dropped, until it closes or [`LINGER`] passes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;
use futures::{AsyncRead, AsyncWrite, Future};

use super::runtime::Stream;

/// How long a closing connection reads what its client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// The service's say on how its connection closes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Linger(Arc<AtomicBool>);

impl Linger {
    /// A response left its request's body unread: linger when the connection closes.
    pub(crate) fn on_close(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn wanted(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A connection's stream that lingers on close when told to.
pub(crate) struct Lingering<S> {
    inner: S,
    linger: Linger,
    /// Set once the write side is shut: when to stop reading.
    until: Option<Timer>,
}

impl<S> Lingering<S> {
    pub(crate) fn new(inner: S, linger: Linger) -> Self {
        Self {
            inner,
            linger,
            until: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: Stream> AsyncWrite for Lingering<S> {
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
        if !self.linger.wanted() {
            return Pin::new(&mut self.inner).poll_close(cx);
        }
        if self.until.is_none() {
            futures::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            self.inner.shut_write()?;
            self.until = Some(Timer::after(LINGER));
        }
        let mut dropped = [0; 8192];
        loop {
            if let Some(until) = self.until.as_mut()
                && Pin::new(until).poll(cx).is_ready()
            {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.inner).poll_read(cx, &mut dropped) {
                Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
