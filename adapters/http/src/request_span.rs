//! One span per request, continuing the caller's trace (W3C `traceparent`) when it sends one.
//! The span carries `trace_id` and `span_id` as fields, so every log line inside it does.

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use tide::utils::async_trait;
use tide::{Middleware, Next, Request};
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::pipeline::RouteLabel;
use crate::state::State;

pub(crate) struct RequestSpan;

struct Headers<'a>(&'a Request<State>);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.header(key).map(|values| values.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.header_names().map(|name| name.as_str()).collect()
    }
}

#[async_trait]
impl Middleware<State> for RequestSpan {
    async fn handle(&self, mut req: Request<State>, next: Next<'_, State>) -> tide::Result {
        let route = RouteLabel::of(&mut req);
        let method = req.method().to_string();
        // Named once the route is known, after the response.
        let span = tracing::info_span!(
            "http request",
            otel.kind = "server",
            http.request.method = %method,
            http.route = Empty,
            http.response.status_code = Empty,
            trace_id = Empty,
            span_id = Empty,
        );
        let caller = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(&req)));
        let _ = span.set_parent(caller);
        let context = span.context();
        let ids = context.span().span_context().clone();
        span.record("trace_id", ids.trace_id().to_string());
        span.record("span_id", ids.span_id().to_string());
        let started = std::time::Instant::now();
        let res = next.run(req).instrument(span.clone()).await;
        let status = u16::from(res.status());
        span.record("http.response.status_code", status);
        span.record("http.route", route.get());
        // The OpenTelemetry span has started by now (its ids were read): rename it directly,
        // since tracing-opentelemetry applies `otel.name` only before the start.
        context
            .span()
            .update_name(format!("{method} {}", route.get()));
        // The access log (go-zero logs every request too), inside the span: it carries the ids.
        span.in_scope(|| {
            tracing::info!(
                status,
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        });
        Ok(res)
    }
}
