use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The process's tracer provider, installed as the global one with W3C trace-context
/// propagation. Spans are always made (logs carry their ids, and the ids travel to the other
/// processes); they are exported over OTLP/gRPC only when an endpoint is configured.
///
/// Needs a tokio context: the OTLP exporter is a tonic client.
///
/// # Errors
/// When the exporter can't be built for the endpoint.
pub fn install_tracing(
    service: &'static str,
    otlp_endpoint: Option<&str>,
) -> Result<SdkTracerProvider, String> {
    let mut builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service).build());
    if let Some(endpoint) = otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    install_propagator();
    Ok(provider)
}

/// W3C `traceparent`/`tracestate`, for every process's incoming and outgoing calls.
pub fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
    ]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spans_are_made_without_an_exporter() {
        let provider = install_tracing("traces-test", None).expect("provider");
        assert!(provider.shutdown().is_ok());
    }

    #[tokio::test]
    async fn a_malformed_endpoint_is_refused_naming_the_setting() {
        let error = install_tracing("traces-test", Some("not a uri")).expect_err("refused");
        assert!(
            error.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT: "),
            "{error}"
        );
    }
}
