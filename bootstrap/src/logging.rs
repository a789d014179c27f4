//! Logs and traces: `tracing` everywhere, bridged to OpenTelemetry so every span has W3C trace
//! and span ids (which travel to the other processes, and to an OTLP collector when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Logs go to stderr as JSON, one object a line, with
//! the ids of the spans they belong to; as text when a person is watching a terminal. Lines
//! are written in batches by a thread of their own, so a request never waits on stderr.

mod batched;
mod json;
mod trace_ids;

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the tracer provider and the log writer; dropping it flushes the spans not yet
/// exported and the lines not yet written.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    _log_writer: batched::Flusher,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber and tracer provider. Needs a tokio context (the OTLP
/// exporter is a tonic client).
///
/// # Errors
/// When the OTLP exporter can't be built.
pub fn init(
    service: &'static str,
    filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, String> {
    let provider = adapter_telemetry::install_tracing(service, otlp_endpoint)?;
    // Every adapter reads a span's OpenTelemetry context from the span itself, so the layer
    // need not attach it to the thread on each poll; and the busy/idle timings and thread
    // names it would otherwise add cost a clock read or an allocation per poll or span.
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_threads(false)
        // Log lines inside a span become events of the exported span: only warnings and errors,
        // so the access line of every request is not copied into its span as well.
        .with_filter(filter_fn(|meta| {
            meta.is_span() || *meta.level() <= tracing::Level::WARN
        }));
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let (writer, guard) = batched::stderr().map_err(|e| format!("log writer: {e}"))?;
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        // Otherwise a failed log write is reported with eprintln!, which panics when stderr
        // itself is the broken pipe: a log collector going away must not kill the service.
        .log_internal_errors(false);
    let logs = if terminal {
        logs.boxed()
    } else {
        // The span list carries the trace_id and span_id of each line's outermost span (the
        // request, call or batch an inbound adapter opened).
        logs.fmt_fields(json::JsonMembers)
            .event_format(json::JsonLine)
            .boxed()
    };
    // A second service in the same process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(traces)
        .with(trace_ids::TraceIdsLayer::default())
        .with(logs)
        .try_init();
    Ok(Telemetry {
        provider,
        _log_writer: guard,
    })
}
