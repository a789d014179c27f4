//! url-api's whole inbound pipeline, in one function: what happens to every request between
//! hyper's HTTP/1 (see [`crate::server`]) and the engine, outermost first. Every layer is a
//! tower layer over `http` types, so both engines are guarded by the very same code; the guards
//! themselves are `adapter_resilience::inbound`'s, which guard the gRPC server too.

use std::convert::Infallible;
use std::sync::Arc;

use adapter_resilience::Shedder;
use adapter_resilience::inbound::{AdmissionLayer, MaxConns, RecoverLayer, Shedding, TimeoutLayer};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Limited;
use tower::ServiceBuilder;
use tower::util::option_layer;
use tower_service::Service;

use super::guards::{BodyLimitLayer, HttpRefusals};
use super::observed::ObservedLayer;
use super::well_formed::WellFormedLayer;
use crate::HttpSettings;

/// The engine's service inside go-zero's guards, in go-zero's order.
pub(crate) fn guarded<S, B, RB>(
    engine: S,
    settings: &HttpSettings,
) -> impl Service<Request<B>, Response = Response<RB>, Error = Infallible, Future: Send>
+ Clone
+ Send
+ 'static
where
    S: Service<Request<Limited<B>>, Response = Response<RB>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    RB: From<Bytes> + Send + 'static,
{
    let limits = settings.limits;
    let shedder = limits
        .shed_above_cpu
        .map(|threshold| Arc::new(Shedder::for_this_process("http", threshold)));
    ServiceBuilder::new()
        // A span per request, continuing the caller's trace, and go-zero's request metrics,
        // labelled by the route that answers; refusals are observed too.
        .layer(ObservedLayer::new())
        // What no router should be asked to route is a 400 here.
        .layer(WellFormedLayer)
        // At most `max_conns` requests in progress; the next gets 503 at once.
        .layer(AdmissionLayer::new(
            MaxConns::new(limits.max_conns),
            HttpRefusals,
        ))
        // While this process's CPU is over the threshold, sheds what it can't finish.
        .layer(option_layer(shedder.map(|shedder| {
            AdmissionLayer::new(Shedding(shedder), HttpRefusals)
        })))
        // A request taking longer than the timeout gets 503.
        .layer(TimeoutLayer::new(limits.timeout, HttpRefusals))
        // The one panic catcher: a panicking handler answers 500.
        .layer(RecoverLayer(HttpRefusals))
        // Bodies over the limit get 413, before or while they are read.
        .layer(BodyLimitLayer(limits.max_body_bytes))
        .service(engine)
}
