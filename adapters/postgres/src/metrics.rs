//! go-zero's SQL client metrics, under its names: `sql_client_requests_duration_ms{command}`
//! and `sql_client_requests_error_total{command, error}`. The error label is the kind
//! (unavailable, rejected, unexpected, conflict), not the message, to keep the series few.

use std::future::Future;
use std::time::Instant;

use application::ports::{RepoError, StoreError};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};

const BUCKETS_MS: [f64; 14] = [
    0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0,
];

#[derive(Debug, Clone)]
pub(crate) struct SqlMetrics {
    duration: Histogram<f64>,
    errors: Counter<u64>,
}

impl SqlMetrics {
    /// Instruments from the global meter provider: install it first.
    pub(crate) fn new() -> Self {
        let meter = opentelemetry::global::meter("sql_client");
        let mut buckets = BUCKETS_MS.to_vec();
        buckets.extend([2500.0, 5000.0, 10000.0, 15000.0]);
        Self {
            duration: meter
                .f64_histogram("sql_client_requests_duration_ms")
                .with_description("mysql client requests duration(ms).")
                .with_boundaries(buckets)
                .build(),
            errors: meter
                .u64_counter("sql_client_requests_error")
                .with_description("mysql client requests error count.")
                .build(),
        }
    }

    /// Times one command, and counts it by kind when it fails.
    pub(crate) async fn measure<T, E: ErrorKind>(
        &self,
        command: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let outcome = call.await;
        let command_label = KeyValue::new("command", command);
        self.duration.record(
            started.elapsed().as_secs_f64() * 1000.0,
            std::slice::from_ref(&command_label),
        );
        if let Err(e) = &outcome {
            self.errors
                .add(1, &[command_label, KeyValue::new("error", e.kind())]);
        }
        outcome
    }
}

/// The `error` label of a failed command.
pub(crate) trait ErrorKind {
    fn kind(&self) -> &'static str;
}

impl ErrorKind for RepoError {
    fn kind(&self) -> &'static str {
        match self {
            Self::CodeTaken => "conflict",
            Self::Unavailable(_) | Self::CircuitOpen => "unavailable",
            Self::Rejected(_) => "rejected",
            Self::Unexpected(_) => "unexpected",
        }
    }
}

impl ErrorKind for StoreError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable(_) | Self::CircuitOpen => "unavailable",
            Self::Rejected(_) => "rejected",
            Self::Unexpected(_) => "unexpected",
        }
    }
}
