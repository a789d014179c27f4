//! go-zero's HTTP server metrics, under its names, so its dashboards keep working:
//! `http_server_requests_duration_ms` (histogram) and `http_server_requests_code_total`
//! (counter), labelled by the pattern of the route that answered, method and status code.

use std::time::Duration;

use http::{Method, StatusCode};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};

use super::observed::method_label;

const BUCKETS_MS: [f64; 9] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 750.0, 1000.0];

pub(crate) struct RequestMetrics {
    duration: Histogram<f64>,
    codes: Counter<u64>,
}

impl RequestMetrics {
    /// Instruments from the global meter provider: install it first.
    pub(crate) fn new() -> Self {
        let meter = opentelemetry::global::meter("http_server");
        Self {
            duration: meter
                .f64_histogram("http_server_requests_duration_ms")
                .with_description("http server requests duration(ms).")
                .with_boundaries(BUCKETS_MS.to_vec())
                .build(),
            codes: meter
                .u64_counter("http_server_requests_code")
                .with_description("http server requests code count.")
                .build(),
        }
    }

    /// Counts one answered request to `route`.
    pub(crate) fn record(
        &self,
        route: &'static str,
        method: &Method,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let labels = [
            KeyValue::new("path", route),
            KeyValue::new("method", method_label(method)),
            KeyValue::new("code", status.as_str().to_owned()),
        ];
        self.duration
            .record(elapsed.as_secs_f64() * 1000.0, &labels);
        self.codes.add(1, &labels);
    }
}
