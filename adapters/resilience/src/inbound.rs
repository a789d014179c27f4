//! The inbound guards, as tower layers: one implementation of max conns, shedding, the request
//! timeout and panic recovery for every server of ours that tower drives (tonic's gRPC, and
//! url-api's HTTP on either engine). What a refusal looks like, and what a response says about
//! the server's health, is the server's own: its [`Refusals`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use http::{Request, Response};
use opentelemetry::metrics::Counter;
use tower_layer::Layer;
use tower_service::Service;

use crate::shedder::{ShedTicket, Shedder};

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// Why a guard answered instead of the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `limit` requests were already in progress.
    AtCapacity { limit: usize },
    /// The CPU is overloaded and the request was shed.
    Overloaded,
    /// The request took longer than the limit.
    TimedOut(Duration),
    /// A circuit breaker in front of the handler is open.
    CircuitOpen,
    /// The handler panicked; what it said.
    Panicked(String),
}

/// What a response says about the server that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, or refused for the request's own sake (a client's mistake).
    Served,
    /// The server failed to answer it.
    Failed,
    /// The request did not get the time or the capacity it needed.
    Starved,
}

/// How a server says no, and how its answers are judged.
pub trait Refusals<B>: Clone + Send + Sync + 'static {
    fn refuse(&self, refusal: Refusal) -> Response<B>;
    fn outcome(&self, res: &Response<B>) -> Outcome;
}

/// A guard that admits or refuses a request before it runs, and learns from its outcome after.
pub trait Admission: Clone + Send + Sync + 'static {
    type Ticket: Send + 'static;
    /// `path` is the request's, for guards that keep one state a route or method.
    ///
    /// # Errors
    /// Why the request is refused instead of run.
    fn admit(&self, path: &str) -> Result<Self::Ticket, Refusal>;
    fn settle(ticket: Self::Ticket, outcome: Outcome);
}

/// Runs every request through an [`Admission`]; refusals are `R`'s.
#[derive(Debug, Clone)]
pub struct AdmissionLayer<A, R> {
    admission: A,
    refusals: R,
}

impl<A, R> AdmissionLayer<A, R> {
    pub fn new(admission: A, refusals: R) -> Self {
        Self {
            admission,
            refusals,
        }
    }

    pub fn admission(&self) -> &A {
        &self.admission
    }
}

impl<S, A: Clone, R: Clone> Layer<S> for AdmissionLayer<A, R> {
    type Service = Admitted<S, A, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Admitted {
            inner,
            admission: self.admission.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Admitted<S, A, R> {
    inner: S,
    admission: A,
    refusals: R,
}

impl<S, A, R, B, RB> Service<Request<B>> for Admitted<S, A, R>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    A: Admission,
    R: Refusals<RB>,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let ticket = match self.admission.admit(req.uri().path()) {
            Ok(ticket) => ticket,
            Err(refusal) => {
                let res = self.refusals.refuse(refusal);
                return Box::pin(async move { Ok(res) });
            }
        };
        let (call, refusals) = (self.inner.call(req), self.refusals.clone());
        Box::pin(async move {
            let res = call.await?;
            A::settle(ticket, refusals.outcome(&res));
            Ok(res)
        })
    }
}

/// At most `limit` requests in progress at once; the next is refused at once rather than
/// queued (go-zero's MaxConns, which also counts requests, not sockets).
#[derive(Debug, Clone)]
pub struct MaxConns {
    limit: usize,
    active: Arc<AtomicUsize>,
    rejected: Counter<u64>,
}

impl MaxConns {
    /// Instruments from the global meter provider: install it first.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            active: Arc::new(AtomicUsize::new(0)),
            rejected: opentelemetry::global::meter("guards")
                .u64_counter("max_conns_rejected")
                .with_description("Requests refused because max_conns were already in progress.")
                .build(),
        }
    }
}

/// A request's place among those in progress, given back however the request ends: panics and
/// cancellations included.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission for MaxConns {
    type Ticket = Slot;

    fn admit(&self, _path: &str) -> Result<Slot, Refusal> {
        if self.active.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.active.fetch_sub(1, Ordering::SeqCst);
            self.rejected.add(1, &[]);
            return Err(Refusal::AtCapacity { limit: self.limit });
        }
        Ok(Slot(Arc::clone(&self.active)))
    }

    fn settle(_slot: Slot, _outcome: Outcome) {}
}

/// Sheds requests while the CPU is overloaded (see [`Shedder`], which counts what it sheds).
#[derive(Debug, Clone)]
pub struct Shedding(pub Arc<Shedder>);

impl Admission for Shedding {
    type Ticket = ShedTicket;

    fn admit(&self, _path: &str) -> Result<ShedTicket, Refusal> {
        self.0.allow().map_err(|_| Refusal::Overloaded)
    }

    /// As go-zero: only a request that lacked time or capacity counts against the capacity.
    fn settle(ticket: ShedTicket, outcome: Outcome) {
        if outcome == Outcome::Starved {
            ticket.fail();
        } else {
            ticket.pass();
        }
    }
}

/// Abandons a request that takes longer than the limit, answering `R`'s
/// [`Refusal::TimedOut`]. The timer is tokio's: every server of ours runs in a tokio context.
#[derive(Debug, Clone)]
pub struct TimeoutLayer<R> {
    limit: Duration,
    refusals: R,
}

impl<R> TimeoutLayer<R> {
    pub fn new(limit: Duration, refusals: R) -> Self {
        Self { limit, refusals }
    }
}

impl<S, R: Clone> Layer<S> for TimeoutLayer<R> {
    type Service = Timeout<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            limit: self.limit,
            refusals: self.refusals.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Timeout<S, R> {
    inner: S,
    limit: Duration,
    refusals: R,
}

impl<S, R, B, RB> Service<Request<B>> for Timeout<S, R>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    R: Refusals<RB>,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (call, limit, refusals) = (self.inner.call(req), self.limit, self.refusals.clone());
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(res) => res,
                Err(_) => Ok(refusals.refuse(Refusal::TimedOut(limit))),
            }
        })
    }
}

/// The one panic catcher: a handler that panics is answered with `R`'s
/// [`Refusal::Panicked`], and the server goes on.
#[derive(Debug, Clone)]
pub struct RecoverLayer<R>(pub R);

impl<S, R: Clone> Layer<S> for RecoverLayer<R> {
    type Service = Recover<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Recover {
            inner,
            refusals: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recover<S, R> {
    inner: S,
    refusals: R,
}

impl<S, R, B, RB> Service<Request<B>> for Recover<S, R>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    R: Refusals<RB>,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let refusals = self.refusals.clone();
        // A panic while the call is made, not only while it runs, is the handler's too.
        let call = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(call) => call,
            Err(panic) => {
                let res = refusals.refuse(Refusal::Panicked(what(&*panic)));
                return Box::pin(async move { Ok(res) });
            }
        };
        Box::pin(async move {
            match AssertUnwindSafe(call).catch_unwind().await {
                Ok(res) => res,
                Err(panic) => Ok(refusals.refuse(Refusal::Panicked(what(&*panic)))),
            }
        })
    }
}

fn what(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::mpsc;

    use tower::ServiceExt;

    use super::*;
    use crate::{FixedCpu, ManualClock};

    /// A server that answers with plain status codes: 503 for every refusal, the refusal's
    /// debug text as the body.
    #[derive(Debug, Clone)]
    struct Plain;

    impl Refusals<String> for Plain {
        fn refuse(&self, refusal: Refusal) -> Response<String> {
            let mut res = Response::new(format!("{refusal:?}"));
            *res.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
            res
        }

        fn outcome(&self, res: &Response<String>) -> Outcome {
            match res.status().as_u16() {
                503 => Outcome::Starved,
                500..=599 => Outcome::Failed,
                _ => Outcome::Served,
            }
        }
    }

    type Handler = tower::util::BoxCloneSyncService<Request<()>, Response<String>, Infallible>;

    /// Answers 200 with the path, after `delay`; panics on `/panic`.
    fn handler(delay: Duration) -> Handler {
        Handler::new(tower::service_fn(move |req: Request<()>| async move {
            tokio::time::sleep(delay).await;
            #[allow(clippy::panic)]
            if req.uri().path() == "/panic" {
                panic!("boom");
            }
            Ok::<_, Infallible>(Response::new(req.uri().path().to_owned()))
        }))
    }

    fn request(path: &str) -> Request<()> {
        Request::builder().uri(path).body(()).unwrap()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn max_conns_refuses_the_request_over_the_limit_and_frees_slots() {
        rt().block_on(async {
            let (entered, in_handler) = mpsc::channel::<()>();
            let (release, released) = async_channel::bounded::<()>(1);
            let slow = tower::service_fn(move |req: Request<()>| {
                let (entered, released) = (entered.clone(), released.clone());
                async move {
                    if req.uri().path() == "/slow" {
                        entered.send(()).unwrap();
                        released.recv().await.unwrap();
                    }
                    Ok::<_, Infallible>(Response::new("done".to_owned()))
                }
            });
            let guarded = AdmissionLayer::new(MaxConns::new(1), Plain).layer(slow);

            let holder = tokio::spawn(guarded.clone().oneshot(request("/slow")));
            tokio::task::spawn_blocking(move || in_handler.recv().unwrap())
                .await
                .unwrap();
            let refused = guarded.clone().oneshot(request("/fast")).await.unwrap();
            assert_eq!(refused.body(), "AtCapacity { limit: 1 }");

            release.send(()).await.unwrap();
            assert_eq!(holder.await.unwrap().unwrap().body(), "done");
            let again = guarded.oneshot(request("/fast")).await.unwrap();
            assert_eq!(again.body(), "done", "the slot is free again");
        });
    }

    #[test]
    fn a_slow_request_is_refused_as_timed_out() {
        rt().block_on(async {
            let service = TimeoutLayer::new(Duration::from_millis(20), Plain)
                .layer(handler(Duration::from_secs(3600)));
            let res = service.oneshot(request("/")).await.unwrap();
            assert_eq!(res.body(), "TimedOut(20ms)");
        });
    }

    #[test]
    fn a_panic_is_answered_and_the_service_goes_on() {
        rt().block_on(async {
            let service = RecoverLayer(Plain).layer(handler(Duration::ZERO));
            let res = service.clone().oneshot(request("/panic")).await.unwrap();
            assert_eq!(res.body(), "Panicked(\"boom\")");
            let res = service.oneshot(request("/fine")).await.unwrap();
            assert_eq!(res.body(), "/fine");
        });
    }

    #[test]
    fn shedding_refuses_while_the_shedder_says_so() {
        rt().block_on(async {
            let cpu = Arc::new(FixedCpu::new(1000));
            let shedder = Arc::new(Shedder::new(
                "test",
                cpu,
                Arc::new(ManualClock::default()),
                900,
            ));
            // Enough in flight, for long enough, to be over the limit of a hot CPU.
            let mut held: Vec<_> = (0..50).map(|_| shedder.allow().unwrap()).collect();
            held.drain(..10).for_each(ShedTicket::fail);
            let service = AdmissionLayer::new(Shedding(Arc::clone(&shedder)), Plain)
                .layer(handler(Duration::ZERO));

            let res = service.oneshot(request("/")).await.unwrap();

            assert_eq!(res.body(), "Overloaded");
            drop(held);
        });
    }
}
