//! The inbound guards of the gRPC server, as tower layers (their order is
//! [`crate::server::serve`]'s). Rejections are gRPC statuses: UNAVAILABLE (breaker),
//! RESOURCE_EXHAUSTED (shedding), DEADLINE_EXCEEDED (timeout).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tonic::body::Body;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

use adapter_resilience::{Breaker, BreakerTicket, Monotonic, Random, ShedTicket, Shedder};

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// The gRPC status of a response, as tonic sends errors (trailers-only: in the headers). A
/// response without one in its headers is a success whose status comes in the trailers.
fn code_of(res: &Response<Body>) -> Code {
    res.headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32)
}

/// A guard that admits or refuses a call before it runs, and learns from its gRPC status after.
pub(crate) trait Admission: Clone + Send + Sync + 'static {
    type Ticket: Send + 'static;
    /// # Errors
    /// The status to answer with instead of running the call.
    fn admit(&self, method: &str) -> Result<Self::Ticket, Status>;
    fn settle(ticket: Self::Ticket, code: Code);
}

/// Runs every call through an [`Admission`].
#[derive(Debug, Clone)]
pub(crate) struct AdmissionLayer<A> {
    admission: A,
}

impl<A> AdmissionLayer<A> {
    pub(crate) fn new(admission: A) -> Self {
        Self { admission }
    }
}

impl<S, A: Clone> Layer<S> for AdmissionLayer<A> {
    type Service = Admitted<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        Admitted {
            inner,
            admission: self.admission.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Admitted<S, A> {
    inner: S,
    admission: A,
}

impl<S, A, B> Service<Request<B>> for Admitted<S, A>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
    A: Admission,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let ticket = match self.admission.admit(req.uri().path()) {
            Ok(ticket) => ticket,
            Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
        };
        let call = self.inner.call(req);
        Box::pin(async move {
            let res = call.await?;
            A::settle(ticket, code_of(&res));
            Ok(res)
        })
    }
}

/// Sheds calls while the CPU is overloaded (see [`Shedder`], which counts what it sheds):
/// RESOURCE_EXHAUSTED "service overloaded".
#[derive(Debug, Clone)]
pub(crate) struct Shedding(Arc<Shedder>);

impl Shedding {
    pub(crate) fn layer(shedder: Arc<Shedder>) -> AdmissionLayer<Self> {
        AdmissionLayer::new(Self(shedder))
    }
}

impl Admission for Shedding {
    type Ticket = ShedTicket;

    fn admit(&self, _method: &str) -> Result<ShedTicket, Status> {
        self.0
            .allow()
            .map_err(|_| Status::resource_exhausted("service overloaded"))
    }

    /// As go-zero: only a call that ran out of time counts as lacking capacity.
    fn settle(ticket: ShedTicket, code: Code) {
        if code == Code::DeadlineExceeded {
            ticket.fail();
        } else {
            ticket.pass();
        }
    }
}

/// Abandons a call that takes longer than the limit: DEADLINE_EXCEEDED.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeoutLayer {
    limit: Duration,
}

impl TimeoutLayer {
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Timeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> Service<Request<B>> for Timeout<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (call, limit) = (self.inner.call(req), self.limit);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(res) => res,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "no answer within {} ms",
                    limit.as_millis()
                ))
                .into_http()),
            }
        })
    }
}

/// One breaker per method of the service's own, judging the method's own answers: calls are
/// refused with UNAVAILABLE while a method keeps failing (by `counts_as_failure`), so a
/// struggling dependency behind it gets room to recover. The breakers are made once, for the
/// methods named at start; any other path passes unguarded, so no caller can make a breaker
/// (and its metric series) by inventing a path.
#[derive(Clone)]
pub(crate) struct Breakers {
    breakers: Arc<HashMap<&'static str, Arc<Breaker>>>,
    counts_as_failure: fn(Code) -> bool,
}

impl std::fmt::Debug for Breakers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breakers").finish_non_exhaustive()
    }
}

impl Breakers {
    pub(crate) fn layer(
        methods: impl IntoIterator<Item = &'static str>,
        counts_as_failure: fn(Code) -> bool,
        clock: &Arc<dyn Monotonic>,
        random: &Arc<dyn Random>,
    ) -> AdmissionLayer<Self> {
        let breakers = methods
            .into_iter()
            .map(|method| {
                let breaker = Arc::new(Breaker::new(
                    format!("grpc-server:{method}"),
                    Arc::clone(clock),
                    Arc::clone(random),
                ));
                breaker.observe();
                (method, breaker)
            })
            .collect();
        AdmissionLayer::new(Self {
            breakers: Arc::new(breakers),
            counts_as_failure,
        })
    }
}

impl Admission for Breakers {
    /// `None` for a path no breaker guards.
    type Ticket = Option<(BreakerTicket, fn(Code) -> bool)>;

    fn admit(&self, method: &str) -> Result<Self::Ticket, Status> {
        let Some(breaker) = self.breakers.get(method) else {
            return Ok(None);
        };
        breaker
            .allow()
            .map(|ticket| Some((ticket, self.counts_as_failure)))
            .map_err(|_| Status::unavailable("circuit breaker is open"))
    }

    fn settle(ticket: Self::Ticket, code: Code) {
        let Some((ticket, counts_as_failure)) = ticket else {
            return;
        };
        if counts_as_failure(code) {
            ticket.failure();
        } else {
            ticket.success();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use adapter_resilience::{FixedCpu, ManualClock};
    use tower::ServiceExt;

    use super::*;

    /// A service answering every call with `code` (after `delay`).
    fn answering(
        code: Code,
        delay: Duration,
    ) -> impl Service<
        Request<()>,
        Response = Response<Body>,
        Error = Infallible,
        Future = BoxFuture<Response<Body>, Infallible>,
    > + Clone {
        tower::service_fn(
            move |_req: Request<()>| -> BoxFuture<Response<Body>, Infallible> {
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    Ok(if code == Code::Ok {
                        Response::new(Body::empty())
                    } else {
                        Status::new(code, "x").into_http()
                    })
                })
            },
        )
    }

    fn request() -> Request<()> {
        Request::builder()
            .uri("/analytics.v1.Analytics/GetClickCount")
            .body(())
            .unwrap()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    fn breaker_layer() -> AdmissionLayer<Breakers> {
        fn internal_only(code: Code) -> bool {
            code == Code::Internal
        }
        Breakers::layer(
            ["/analytics.v1.Analytics/GetClickCount"],
            internal_only,
            &(Arc::new(ManualClock::default()) as Arc<dyn Monotonic>),
            &(Arc::new(0.0) as Arc<dyn Random>),
        )
    }

    #[test]
    fn the_breaker_opens_on_failing_codes_only() {
        rt().block_on(async {
            let failing = breaker_layer().layer(answering(Code::Internal, Duration::ZERO));
            for _ in 0..6 {
                let res = failing.clone().oneshot(request()).await.unwrap();
                assert_eq!(code_of(&res), Code::Internal);
            }
            let res = failing.clone().oneshot(request()).await.unwrap();
            assert_eq!(code_of(&res), Code::Unavailable);

            let refusing = breaker_layer().layer(answering(Code::InvalidArgument, Duration::ZERO));
            for _ in 0..20 {
                let res = refusing.clone().oneshot(request()).await.unwrap();
                assert_eq!(code_of(&res), Code::InvalidArgument);
            }
        });
    }

    #[test]
    fn a_path_without_a_breaker_is_never_refused_and_makes_none() {
        rt().block_on(async {
            let layer = breaker_layer();
            let failing = layer.layer(answering(Code::Internal, Duration::ZERO));
            for i in 0..100 {
                let req = Request::builder()
                    .uri(format!("/junk/{i}"))
                    .body(())
                    .unwrap();
                let res = failing.clone().oneshot(req).await.unwrap();
                assert_eq!(code_of(&res), Code::Internal);
            }
            assert_eq!(failing.admission.breakers.len(), 1);
        });
    }

    #[test]
    fn a_slow_call_is_a_deadline_exceeded() {
        rt().block_on(async {
            let service = TimeoutLayer::new(Duration::from_millis(10))
                .layer(answering(Code::Ok, Duration::from_secs(3600)));
            let res = service.oneshot(request()).await.unwrap();
            assert_eq!(code_of(&res), Code::DeadlineExceeded);
        });
    }

    #[test]
    fn shedding_answers_resource_exhausted() {
        rt().block_on(async {
            let shedder = Arc::new(Shedder::new(
                "grpc",
                Arc::new(FixedCpu::new(1000)),
                Arc::new(ManualClock::default()),
                900,
            ));
            let mut held: Vec<_> = (0..50).map(|_| shedder.allow().unwrap()).collect();
            held.drain(..10).for_each(ShedTicket::fail);
            let service = Shedding::layer(shedder).layer(answering(Code::Ok, Duration::ZERO));
            let res = service.oneshot(request()).await.unwrap();
            assert_eq!(code_of(&res), Code::ResourceExhausted);
            drop(held);
        });
    }
}
