//! One span per request, continuing the caller's trace (W3C `traceparent`) when it sends one.
//! Every log line inside it names its trace and span ids (the logs find them); the access log
//! is its last line.

use std::time::Duration;

use http::{HeaderMap, Request, StatusCode};
use opentelemetry::propagation::Extractor;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::observed::method_label;

/// The span of a request that `route` answers.
pub(crate) fn open<B>(req: &Request<B>, route: &'static str) -> Span {
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "http request",
        otel.kind = "server",
        otel.name = format!("{method} {route}"),
        http.request.method = method,
        http.route = route,
        http.response.status_code = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    // Most requests come without a trace: reading the propagator's headers is then skipped.
    let headers = Headers(req.headers());
    if let Some(caller) = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator
            .fields()
            .any(|field| headers.0.contains_key(field))
            .then(|| propagator.extract(&headers))
    }) {
        let _ = span.set_parent(caller);
    }
    span
}

/// The access lines' target, apart from the spans': `RUST_LOG=info,adapter_http::access=warn`
/// silences the lines and keeps the traces.
const ACCESS: &str = "adapter_http::access";

/// Ends a request's span with its answer's status, and writes the access line (go-zero logs
/// every request too) inside it, where it carries the ids.
pub(crate) fn close(span: &Span, status: StatusCode, elapsed: Duration) {
    let status = status.as_u16();
    span.record("http.response.status_code", status);
    span.in_scope(|| {
        tracing::info!(
            target: ACCESS,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
