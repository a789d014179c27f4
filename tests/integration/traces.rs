//! Trace context crosses the processes' boundaries: a link-detail request's trace reaches
//! analytics-rpc's span, and a redirect's trace reaches the consumer's span (as a link). Spans
//! are caught by an in-memory exporter; url-api, analytics-rpc and the consumer run in this
//! process, wired as their binaries wire them.

use std::sync::OnceLock;

use integration_tests::consumer::RunningConsumer;
use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use opentelemetry::trace::{SpanKind, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

use adapter_http::Engine;
use rstest::rstest;

use crate::rpc_app::TestRpc;
use crate::url_api_app::TestApp;

/// The process's spans, once: a global tracing subscriber bridged to an in-memory exporter.
fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tests")));
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        opentelemetry::global::set_tracer_provider(provider);
        adapter_telemetry::install_propagator();
        exporter
    })
}

async fn shortened(app: &TestApp, url: &str) -> String {
    app.shorten(url).await["short_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends a GET as a caller in a fresh trace (its `traceparent` header); returns that trace's id
/// and the status.
async fn traced_get(app: &TestApp, path: &str) -> (TraceId, u16) {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let res = app
        .client
        .get(app.url(path))
        .header("traceparent", format!("00-{id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    (TraceId::from_hex(&id).unwrap(), res.status().as_u16())
}

async fn wait_for_span(what: &str, found: impl Fn(&SpanData) -> bool) -> SpanData {
    wait::until(what, 300, || async {
        exporter()
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .find(|span| found(span))
    })
    .await
}

#[rstest]
#[async_std::test]
async fn a_link_detail_trace_reaches_the_rpc_span(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    exporter();
    let db = TestDatabase::create().await;
    let rpc = TestRpc::spawn(&db.url).await;
    let rpc_url = format!("http://{}", rpc.addr);
    let app = TestApp::spawn_with(&db.url, |config| {
        config.analytics_rpc_url = rpc_url;
        config.api.engine = engine;
    })
    .await;
    let code = shortened(&app, "https://example.com/traced").await;

    let (trace_id, status) = traced_get(&app, &format!("/api/v1/links/{code}")).await;
    assert_eq!(status, 200);

    // Found only in the caller's trace: url-api must continue it.
    wait_for_span("url-api's request span in the caller's trace", |span| {
        span.span_kind == SpanKind::Server
            && span.name == "GET /api/v1/links/:code"
            && span.span_context.trace_id() == trace_id
    })
    .await;
    let server = wait_for_span("analytics-rpc's span in the caller's trace", |span| {
        span.span_kind == SpanKind::Server
            && span.name == "/analytics.v1.Analytics/GetClickCount"
            && span.span_context.trace_id() == trace_id
    })
    .await;
    assert_eq!(server.span_context.trace_id(), trace_id);
    app.stop().await;
    rpc.stop().await;
}

#[async_std::test]
async fn a_redirect_trace_reaches_the_consumer_span() {
    exporter();
    let db = TestDatabase::create().await;
    let kafka = TestKafka::start().await;
    let (brokers, topic) = (kafka.brokers.clone(), kafka.topic.clone());
    let app = TestApp::spawn_with(&db.url, |config| {
        config.kafka.brokers = brokers;
        config.kafka.topic = topic;
    })
    .await;
    let consumer = RunningConsumer::start(&kafka, &db.connect().await, 10).await;
    let code = shortened(&app, "https://example.com/traced-click").await;

    let (trace_id, status) = traced_get(&app, &format!("/{code}")).await;
    assert_eq!(status, 302);

    let batch = wait_for_span(
        "the consumer's span linked to the redirect's trace",
        |span| {
            span.span_kind == SpanKind::Consumer
                && span
                    .links
                    .iter()
                    .any(|link| link.span_context.trace_id() == trace_id)
        },
    )
    .await;
    assert_eq!(batch.name, "consume batch");
    consumer.stop().await;
    app.stop().await;
}
