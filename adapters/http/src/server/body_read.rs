//! Whether a request's body was read to its end: hyper closes a connection whose request body
//! was left unread, and the response must then say `Connection: close`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::Request;
use hyper::body::{Body, Frame, SizeHint};

/// A request body that notes when it has been read to its end.
#[derive(Debug)]
pub(crate) struct Tracked<B> {
    inner: B,
    done: Arc<AtomicBool>,
}

/// The other half: asked once the response is ready.
#[derive(Debug)]
pub(crate) struct BodyRead(Arc<AtomicBool>);

impl BodyRead {
    pub(crate) fn left_unread(&self) -> bool {
        !self.0.load(Ordering::Acquire)
    }
}

impl<B: Body> Tracked<B> {
    pub(crate) fn request(req: Request<B>) -> (Request<Self>, BodyRead) {
        let done = Arc::new(AtomicBool::new(false));
        let read = BodyRead(Arc::clone(&done));
        let req = req.map(|inner| {
            // A body that is empty from the start has nothing to leave unread.
            done.store(inner.is_end_stream(), Ordering::Release);
            Self { inner, done }
        });
        (req, read)
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            self.done.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
