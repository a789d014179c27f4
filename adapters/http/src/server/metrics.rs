//! go-zero's HTTP server metrics, under its names, so its dashboards keep working:
//! `http_server_requests_duration_ms` (histogram) and `http_server_requests_code_total`
//! (counter), labelled by the pattern of the route that answered, method and status code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use tower_layer::Layer;
use tower_service::Service;

use crate::api::routes;

const BUCKETS_MS: [f64; 9] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 750.0, 1000.0];

struct Instruments {
    duration: Histogram<f64>,
    codes: Counter<u64>,
}

#[derive(Clone)]
pub(crate) struct RequestMetricsLayer(Arc<Instruments>);

impl RequestMetricsLayer {
    /// Instruments from the global meter provider: install it first.
    pub(crate) fn new() -> Self {
        let meter = opentelemetry::global::meter("http_server");
        Self(Arc::new(Instruments {
            duration: meter
                .f64_histogram("http_server_requests_duration_ms")
                .with_description("http server requests duration(ms).")
                .with_boundaries(BUCKETS_MS.to_vec())
                .build(),
            codes: meter
                .u64_counter("http_server_requests_code")
                .with_description("http server requests code count.")
                .build(),
        }))
    }
}

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics {
            inner,
            instruments: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
pub(crate) struct RequestMetrics<S> {
    inner: S,
    instruments: Arc<Instruments>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, RB> Service<Request<B>> for RequestMetrics<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let path = routes::label(req.method(), req.uri().path());
        let method = KeyValue::new("method", req.method().as_str().to_owned());
        let (call, instruments) = (self.inner.call(req), Arc::clone(&self.instruments));
        Box::pin(async move {
            let res = call.await?;
            let labels = [
                KeyValue::new("path", path),
                method,
                KeyValue::new("code", i64::from(res.status().as_u16()).to_string()),
            ];
            instruments
                .duration
                .record(started.elapsed().as_secs_f64() * 1000.0, &labels);
            instruments.codes.add(1, &labels);
            Ok(res)
        })
    }
}
