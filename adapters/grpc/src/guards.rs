//! The gRPC server's side of the inbound guards (their order is [`crate::server::serve`]'s):
//! how it refuses ([`GrpcRefusals`]: UNAVAILABLE for an open breaker, RESOURCE_EXHAUSTED for
//! shedding and max conns, DEADLINE_EXCEEDED for the timeout), and its breakers, one per
//! method. The layers themselves are `adapter_resilience::inbound`'s, shared with url-api.

use std::collections::HashMap;
use std::sync::Arc;

use http::Response;
use tonic::body::Body;
use tonic::{Code, Status};

use adapter_resilience::inbound::{Admission, AdmissionLayer, Outcome, Refusal, Refusals};
use adapter_resilience::{Breaker, BreakerTicket, Monotonic, Random};

use crate::client::counts_as_failure;

/// The gRPC status of a response, as tonic sends errors (trailers-only: in the headers). A
/// response without one in its headers is a success whose status comes in the trailers.
fn code_of(res: &Response<Body>) -> Code {
    res.headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32)
}

/// How the gRPC server refuses a call, and go-zero's judgement of its answers: a deadline
/// exceeded lacked time; the codes of [`counts_as_failure`] are the server's failures; every
/// other code refuses that one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrpcRefusals;

impl Refusals<Body> for GrpcRefusals {
    fn refuse(&self, refusal: Refusal) -> Response<Body> {
        match refusal {
            Refusal::AtCapacity { limit } => Status::resource_exhausted(format!(
                "the server is at its limit of {limit} calls in progress"
            )),
            Refusal::Overloaded => Status::resource_exhausted("service overloaded"),
            Refusal::TimedOut(limit) => {
                Status::deadline_exceeded(format!("no answer within {} ms", limit.as_millis()))
            }
            Refusal::CircuitOpen => Status::unavailable("circuit breaker is open"),
            Refusal::Panicked(what) => {
                tracing::error!(panic = %what, "a call's handler panicked");
                Status::internal("the server failed to handle this call")
            }
        }
        .into_http()
    }

    fn outcome(&self, res: &Response<Body>) -> Outcome {
        match code_of(res) {
            Code::DeadlineExceeded => Outcome::Starved,
            code if counts_as_failure(code) => Outcome::Failed,
            _ => Outcome::Served,
        }
    }
}

/// One breaker per method of the service's own, judging the method's own answers: calls are
/// refused with UNAVAILABLE while a method keeps failing, so a struggling dependency behind it
/// gets room to recover. The breakers are made once, for the methods named at start; any other
/// path passes unguarded, so no caller can make a breaker (and its metric series) by inventing
/// a path.
#[derive(Clone)]
pub(crate) struct Breakers {
    breakers: Arc<HashMap<&'static str, Arc<Breaker>>>,
}

impl std::fmt::Debug for Breakers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breakers").finish_non_exhaustive()
    }
}

impl Breakers {
    pub(crate) fn layer(
        methods: impl IntoIterator<Item = &'static str>,
        clock: &Arc<dyn Monotonic>,
        random: &Arc<dyn Random>,
    ) -> AdmissionLayer<Self, GrpcRefusals> {
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
        AdmissionLayer::new(
            Self {
                breakers: Arc::new(breakers),
            },
            GrpcRefusals,
        )
    }
}

impl Admission for Breakers {
    /// `None` for a path no breaker guards.
    type Ticket = Option<BreakerTicket>;

    fn admit(&self, method: &str) -> Result<Self::Ticket, Refusal> {
        let Some(breaker) = self.breakers.get(method) else {
            return Ok(None);
        };
        breaker.allow().map(Some).map_err(|_| Refusal::CircuitOpen)
    }

    fn settle(ticket: Self::Ticket, outcome: Outcome) {
        let Some(ticket) = ticket else {
            return;
        };
        if outcome == Outcome::Served {
            ticket.success();
        } else {
            ticket.failure();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::time::Duration;

    use adapter_resilience::inbound::{Shedding, TimeoutLayer};
    use adapter_resilience::{FixedCpu, ManualClock, ShedTicket, Shedder};
    use http::Request;
    use tower::ServiceExt;
    use tower_layer::Layer;
    use tower_service::Service;

    use super::*;

    type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

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

    fn breaker_layer() -> AdmissionLayer<Breakers, GrpcRefusals> {
        Breakers::layer(
            ["/analytics.v1.Analytics/GetClickCount"],
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
            assert_eq!(layer.admission().breakers.len(), 1);
        });
    }

    #[test]
    fn a_slow_call_is_a_deadline_exceeded() {
        rt().block_on(async {
            let service = TimeoutLayer::new(Duration::from_millis(10), GrpcRefusals)
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
            let service = AdmissionLayer::new(Shedding(shedder), GrpcRefusals)
                .layer(answering(Code::Ok, Duration::ZERO));
            let res = service.oneshot(request()).await.unwrap();
            assert_eq!(code_of(&res), Code::ResourceExhausted);
            drop(held);
        });
    }
}
