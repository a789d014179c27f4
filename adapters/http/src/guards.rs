//! The inbound guards, as tide middleware: go-zero's, in its order (see [`crate::pipeline`]).
//! Each refusal is a problem from [`crate::problem`], like every other error of the API.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use adapter_resilience::Shedder;
use futures::FutureExt;
use opentelemetry::metrics::Counter;
use tide::http::headers::CONTENT_TYPE;
use tide::utils::async_trait;
use tide::{Middleware, Next, Request, Response, StatusCode};

use crate::problem::Problem;

fn unavailable(slug: &str, detail: impl Into<String>) -> Response {
    Problem::new(
        StatusCode::ServiceUnavailable,
        slug,
        "Service Unavailable",
        detail,
    )
    .into()
}

/// At most this many requests in progress at once; the next is refused at once with 503
/// rather than queued (go-zero's MaxConns, which also counts requests, not sockets).
#[derive(Debug)]
pub(crate) struct MaxConns {
    limit: usize,
    active: AtomicUsize,
    rejected: Counter<u64>,
}

impl MaxConns {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            active: AtomicUsize::new(0),
            rejected: opentelemetry::global::meter("guards")
                .u64_counter("max_conns_rejected")
                .with_description("Requests refused because max_conns were already in progress.")
                .build(),
        }
    }
}

/// Gives the slot back however the request ends, panics and cancellations included.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl<S: Clone + Send + Sync + 'static> Middleware<S> for MaxConns {
    async fn handle(&self, req: Request<S>, next: Next<'_, S>) -> tide::Result {
        if self.active.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.active.fetch_sub(1, Ordering::SeqCst);
            self.rejected.add(1, &[]);
            return Ok(unavailable(
                "too-many-requests-in-progress",
                "the server is at its limit of concurrent requests; try again shortly",
            ));
        }
        let _slot = Slot(&self.active);
        Ok(next.run(req).await)
    }
}

/// Sheds requests while the CPU is overloaded (see [`Shedder`], which counts what it sheds);
/// 503 when it does.
#[derive(Debug)]
pub(crate) struct LoadShedding(pub(crate) Arc<Shedder>);

#[async_trait]
impl<S: Clone + Send + Sync + 'static> Middleware<S> for LoadShedding {
    async fn handle(&self, req: Request<S>, next: Next<'_, S>) -> tide::Result {
        let Ok(ticket) = self.0.allow() else {
            return Ok(unavailable(
                "overloaded",
                "the server is overloaded; try again shortly",
            ));
        };
        let res = next.run(req).await;
        // A 503 means the request didn't get the capacity it needed.
        if res.status() == StatusCode::ServiceUnavailable {
            ticket.fail();
        } else {
            ticket.pass();
        }
        Ok(res)
    }
}

/// Abandons a request that takes longer than the limit: 503 with a problem body.
#[derive(Debug)]
pub(crate) struct RequestTimeout(pub(crate) Duration);

#[async_trait]
impl<S: Clone + Send + Sync + 'static> Middleware<S> for RequestTimeout {
    async fn handle(&self, req: Request<S>, next: Next<'_, S>) -> tide::Result {
        match async_std::future::timeout(self.0, next.run(req)).await {
            Ok(res) => Ok(res),
            Err(_) => Ok(unavailable(
                "timeout",
                format!("the request took longer than {} ms", self.0.as_millis()),
            )),
        }
    }
}

/// The one panic catcher: a handler that panics answers 500, and the server goes on.
#[derive(Debug, Default)]
pub(crate) struct Recover;

#[async_trait]
impl<S: Clone + Send + Sync + 'static> Middleware<S> for Recover {
    async fn handle(&self, req: Request<S>, next: Next<'_, S>) -> tide::Result {
        match AssertUnwindSafe(next.run(req)).catch_unwind().await {
            Ok(res) => Ok(res),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Ok(Problem::internal(&format!("handler panicked: {what}")).into())
            }
        }
    }
}

/// Request bodies up to the limit: a declared length over it is refused before a byte is read,
/// and a chunked body is cut off one byte past it (the reader then fails with [`TooLarge`]).
#[derive(Debug)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// The error a capped body's reader fails with past the limit; handlers answer it with 413.
#[derive(Debug)]
pub(crate) struct TooLarge(pub(crate) usize);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the body is larger than {} bytes", self.0)
    }
}

impl std::error::Error for TooLarge {}

impl TooLarge {
    pub(crate) fn problem(&self) -> Problem {
        Problem::new(
            StatusCode::PayloadTooLarge,
            "payload-too-large",
            "Payload Too Large",
            self.to_string(),
        )
    }
}

#[async_trait]
impl<S: Clone + Send + Sync + 'static> Middleware<S> for BodyLimit {
    async fn handle(&self, mut req: Request<S>, next: Next<'_, S>) -> tide::Result {
        let limit = self.0;
        if req.len().is_some_and(|len| len > limit) {
            return Ok(TooLarge(limit).problem().into());
        }
        if req.is_empty() != Some(true) {
            let len = req.len();
            let capped = Capped {
                inner: req.take_body(),
                left: limit,
                limit,
            };
            let labelled = req.header(CONTENT_TYPE).cloned();
            req.set_body(tide::Body::from_reader(
                futures::io::BufReader::new(capped),
                len,
            ));
            // Setting a body labels the request with the body's type; keep the client's.
            match labelled {
                Some(content_type) => {
                    req.insert_header(CONTENT_TYPE, content_type.as_str());
                }
                None => {
                    req.remove_header(CONTENT_TYPE);
                }
            }
        }
        Ok(next.run(req).await)
    }
}

struct Capped {
    inner: tide::Body,
    left: usize,
    limit: usize,
}

impl futures::AsyncRead for Capped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        // One byte more than what is left tells "at the limit" from "over it".
        let max = buf.len().min(self.left + 1);
        let Some(window) = buf.get_mut(..max) else {
            return Poll::Ready(Ok(0));
        };
        let read = futures::ready!(Pin::new(&mut self.inner).poll_read(cx, window))?;
        if read > self.left {
            return Poll::Ready(Err(std::io::Error::other(TooLarge(self.limit))));
        }
        self.left -= read;
        Poll::Ready(Ok(read))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use tide::http::{Method, Url};

    use adapter_resilience::{FixedCpu, ManualClock, ShedTicket};

    use super::*;

    async fn call(app: &tide::Server<()>, path: &str) -> tide::http::Response {
        let req =
            tide::http::Request::new(Method::Get, Url::parse(&format!("http://t{path}")).unwrap());
        app.respond(req).await.unwrap()
    }

    async fn body(mut res: tide::http::Response) -> serde_json::Value {
        assert_eq!(
            res.content_type().unwrap().essence(),
            "application/problem+json"
        );
        res.body_json().await.unwrap()
    }

    #[async_std::test]
    async fn max_conns_refuses_the_request_over_the_limit_and_frees_slots() {
        let (entered, in_handler) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let released = std::sync::Mutex::new(released);
        let mut app = tide::new();
        app.with(MaxConns::new(1));
        app.at("/slow").get(move |_| {
            entered.send(()).unwrap();
            released.lock().unwrap().recv().unwrap();
            async { Ok("done") }
        });
        app.at("/fast").get(|_| async { Ok("fast") });
        let app = Arc::new(app);

        let holder = {
            let app = Arc::clone(&app);
            async_std::task::spawn(async move { call(&app, "/slow").await.status() })
        };
        async_std::task::spawn_blocking(move || in_handler.recv().unwrap()).await;

        let refused = call(&app, "/fast").await;
        assert_eq!(refused.status(), StatusCode::ServiceUnavailable);
        assert_eq!(
            body(refused).await["type"],
            "urn:shortener:problem:too-many-requests-in-progress"
        );

        release.send(()).unwrap();
        assert_eq!(holder.await, StatusCode::Ok);
        assert_eq!(
            call(&app, "/fast").await.status(),
            StatusCode::Ok,
            "the slot is free again"
        );
    }

    #[async_std::test]
    async fn a_slow_request_times_out_with_503() {
        let mut app = tide::new();
        app.with(RequestTimeout(Duration::from_millis(20)));
        app.at("/").get(|_| async {
            async_std::task::sleep(Duration::from_secs(3600)).await;
            Ok("never")
        });

        let res = call(&app, "/").await;

        assert_eq!(res.status(), StatusCode::ServiceUnavailable);
        assert_eq!(
            body(res).await["detail"],
            "the request took longer than 20 ms"
        );
    }

    #[async_std::test]
    async fn a_panic_becomes_a_500() {
        let mut app = tide::new();
        app.with(Recover);
        app.at("/").get(|_| async {
            #[allow(clippy::panic)]
            if true {
                panic!("boom");
            }
            Ok("unreachable")
        });

        let res = call(&app, "/").await;

        assert_eq!(res.status(), StatusCode::InternalServerError);
        assert_eq!(body(res).await["status"], 500);
    }

    #[async_std::test]
    async fn shedding_refuses_with_503_when_the_shedder_says_so() {
        let cpu = Arc::new(FixedCpu::new(1000));
        let clock = ManualClock::default();
        let shedder = Arc::new(Shedder::new("http", cpu, Arc::new(clock), 900));
        // Enough in flight, for long enough, to be over the limit of a hot CPU.
        let mut held: Vec<_> = (0..50).map(|_| shedder.allow().unwrap()).collect();
        held.drain(..10).for_each(ShedTicket::fail);
        let mut app = tide::new();
        app.with(LoadShedding(shedder));
        app.at("/").get(|_| async { Ok("ok") });

        let res = call(&app, "/").await;

        assert_eq!(res.status(), StatusCode::ServiceUnavailable);
        assert_eq!(body(res).await["type"], "urn:shortener:problem:overloaded");
        drop(held);
    }
}
