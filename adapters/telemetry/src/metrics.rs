use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder, Registry, TextEncoder};

/// The process's metrics: an OpenTelemetry meter provider, installed as the global one so that
/// adapters record through the plain API, exporting into a Prometheus registry.
///
/// Names come out as written: no unit suffixes and no scope labels, so that the go-zero names
/// (`http_server_requests_duration_ms`, ...) and dashboards carry over unchanged. Counters get
/// Prometheus's `_total`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    provider: SdkMeterProvider,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Installs the global meter provider and records `build_info`.
    ///
    /// # Errors
    /// When the exporter can't be registered.
    pub fn install(service: &'static str, version: &'static str) -> Result<Self, String> {
        let registry = Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .without_units()
            .scope_info_enabled(false)
            .without_target_info()
            .build()
            .map_err(|e| format!("metrics exporter: {e}"))?;
        let provider = SdkMeterProvider::builder().with_reader(exporter).build();
        opentelemetry::global::set_meter_provider(provider.clone());
        provider
            .meter("build")
            .u64_gauge("build_info")
            .with_description("Always 1; the labels say what is running.")
            .build()
            .record(
                1,
                &[
                    KeyValue::new("service", service),
                    KeyValue::new("version", version),
                ],
            );
        Ok(Self { registry, provider })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    /// Flushes nothing (the exporter is pulled) but stops the provider cleanly at shutdown.
    pub fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }
}
