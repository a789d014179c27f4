use std::future::Future;
use std::sync::Arc;

use application::ClickAnalytics;
use application::ports::StoreError;
use application::use_cases::StatsError;
use chrono::{Duration, NaiveDate, Utc};
use domain::{ClickStats, DayRange, ShortCode};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};
use tower::util::option_layer;

use adapter_resilience::{Monotonic, MonotonicClock, Random, Shedder, ThreadRandom};

use adapter_resilience::inbound::{AdmissionLayer, RecoverLayer, Shedding, TimeoutLayer};

use crate::guards::{Breakers, GrpcRefusals};
use crate::methods::own_methods;
use crate::metrics::{RpcMetrics, ServerMetricsLayer};
use crate::proto::analytics_server::{Analytics, AnalyticsServer};
use crate::proto::{
    Count, FILE_DESCRIPTOR_SET, GetClickCountRequest, GetClickCountResponse, GetClickStatsRequest,
    GetClickStatsResponse,
};
use crate::token::{self, RpcToken};
use crate::well_formed::WellFormedLayer;

/// The inbound guards' settings: plain values, from which [`serve`] builds its layers.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// A call taking longer gets DEADLINE_EXCEEDED; its request message must arrive within it.
    pub timeout: std::time::Duration,
    /// Per mille of this process's CPU above which calls are shed; `None`: never shed.
    pub shed_above_cpu: Option<u64>,
}

/// Who may call: with a token, only callers that present it (see [`RpcToken`]).
#[derive(Debug, Clone, Default)]
pub struct Callers {
    pub token: Option<RpcToken>,
}

/// Serves `analytics.v1.Analytics`, grpc.health.v1 and reflection on the bound listener until
/// `shutdown` completes; in-flight calls finish first. The whole inbound pipeline is here,
/// outermost first.
///
/// # Errors
/// When the server fails (the listener breaks).
pub async fn serve(
    listener: TcpListener,
    analytics: Arc<dyn ClickAnalytics>,
    limits: CallLimits,
    callers: Callers,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AnalyticsServer<AnalyticsGrpc>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1();
    let reflection = match reflection {
        Ok(reflection) => Some(reflection),
        Err(e) => {
            tracing::error!(error = %e, "server reflection disabled");
            None
        }
    };
    let shedder = limits
        .shed_above_cpu
        .map(|threshold| Arc::new(Shedder::for_this_process("grpc", threshold)));
    let clock: Arc<dyn Monotonic> = Arc::new(MonotonicClock::new());
    let random: Arc<dyn Random> = Arc::new(ThreadRandom);
    tonic::transport::Server::builder()
        // A span and go-zero's metrics per call, labelled by our own methods or `other`.
        .layer(ServerMetricsLayer(RpcMetrics::new("server")))
        // Malformed calls get INVALID_ARGUMENT here, so that the guards judge only well-formed
        // ones; a request message must arrive within the timeout.
        .layer(WellFormedLayer::new(limits.timeout))
        // A breaker per method of our own, opened only by failures of the server's making.
        .layer(Breakers::layer(own_methods(), &clock, &random))
        // While this process's CPU is over the threshold, sheds what it can't finish.
        .layer(option_layer(shedder.map(|shedder| {
            AdmissionLayer::new(Shedding(shedder), GrpcRefusals)
        })))
        // A call taking longer than the timeout gets DEADLINE_EXCEEDED.
        .layer(TimeoutLayer::new(limits.timeout, GrpcRefusals))
        // A handler that panics answers INTERNAL, and the server goes on.
        .layer(RecoverLayer(GrpcRefusals))
        // The services; only Analytics asks for the token (UNAUTHENTICATED, never counted
        // against a breaker), so probes and grpcurl need none.
        .add_service(health_service)
        .add_optional_service(reflection)
        .add_service(AnalyticsServer::with_interceptor(
            AnalyticsGrpc { analytics },
            token::check(callers.token),
        ))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

struct AnalyticsGrpc {
    analytics: Arc<dyn ClickAnalytics>,
}

/// Days of stats when the request names no start.
const DEFAULT_DAYS: i64 = 30;

#[tonic::async_trait]
impl Analytics for AnalyticsGrpc {
    async fn get_click_count(
        &self,
        request: Request<GetClickCountRequest>,
    ) -> Result<Response<GetClickCountResponse>, Status> {
        let code = short_code(&request.get_ref().short_code)?;
        let total_clicks = self.analytics.click_count(code).await.map_err(status)?;
        Ok(Response::new(GetClickCountResponse {
            short_code: code.to_string(),
            total_clicks,
        }))
    }

    async fn get_click_stats(
        &self,
        request: Request<GetClickStatsRequest>,
    ) -> Result<Response<GetClickStatsResponse>, Status> {
        let request = request.get_ref();
        let code = short_code(&request.short_code)?;
        let range = day_range(&request.from_date, &request.to_date)?;
        let stats = self
            .analytics
            .click_stats(code, range)
            .await
            .map_err(status)?;
        Ok(Response::new(response(code, range, stats)))
    }
}

fn short_code(input: &str) -> Result<ShortCode, Status> {
    ShortCode::parse(input).map_err(|e| Status::invalid_argument(format!("short_code: {e}")))
}

fn day_range(from: &str, to: &str) -> Result<DayRange, Status> {
    let to = match to {
        "" => Utc::now().date_naive(),
        given => date("to_date", given)?,
    };
    let from = match from {
        "" => to - Duration::days(DEFAULT_DAYS - 1),
        given => date("from_date", given)?,
    };
    DayRange::new(from, to).map_err(|e| Status::invalid_argument(e.to_string()))
}

fn date(field: &str, value: &str) -> Result<NaiveDate, Status> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        Status::invalid_argument(format!("{field}: '{value}' is not a date like 2026-01-31"))
    })
}

/// A store that can't answer now is UNAVAILABLE (callers may retry); a question the store
/// refuses for its content is INVALID_ARGUMENT; anything else INTERNAL. The store's own words
/// go to the log, not to the caller.
fn status(e: StatsError) -> Status {
    match e {
        StatsError::Store(StoreError::Rejected(reason)) => {
            tracing::info!(%reason, "analytics query refused by the click store");
            Status::invalid_argument("the click store cannot answer this question")
        }
        StatsError::Store(StoreError::Unavailable(reason)) => {
            tracing::warn!(%reason, "analytics query: click store unavailable");
            Status::unavailable("click store unavailable")
        }
        StatsError::Store(StoreError::CircuitOpen) => {
            Status::unavailable("click store circuit breaker is open")
        }
        StatsError::Store(StoreError::Unexpected(reason)) => {
            tracing::error!(%reason, "analytics query failed");
            Status::internal("analytics query failed")
        }
    }
}

fn response(code: ShortCode, range: DayRange, stats: ClickStats) -> GetClickStatsResponse {
    let counts = |rows: Vec<(String, u64)>| {
        rows.into_iter()
            .map(|(key, clicks)| Count { key, clicks })
            .collect()
    };
    GetClickStatsResponse {
        short_code: code.to_string(),
        from_date: range.from().to_string(),
        to_date: range.to().to_string(),
        total_clicks: stats.total,
        by_day: counts(
            stats
                .by_day
                .into_iter()
                .map(|(d, n)| (d.to_string(), n))
                .collect(),
        ),
        by_country: counts(
            stats
                .by_country
                .into_iter()
                .map(|(c, n)| (c.to_string(), n))
                .collect(),
        ),
        by_device: counts(
            stats
                .by_device
                .into_iter()
                .map(|(d, n)| (d.as_str().to_owned(), n))
                .collect(),
        ),
        by_source: counts(
            stats
                .by_source
                .into_iter()
                .map(|(s, n)| (s.as_str().to_owned(), n))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("2026-01-01", "2026-01-31", Some(("2026-01-01", "2026-01-31")))]
    #[case("2026-02-01", "2026-01-31", None)]
    #[case("2026-1-1x", "2026-01-31", None)]
    #[case("2025-01-01", "2026-12-31", None)]
    #[case("", "2026-01-30", Some(("2026-01-01", "2026-01-30")))]
    fn reads_day_ranges(
        #[case] from: &str,
        #[case] to: &str,
        #[case] expected: Option<(&str, &str)>,
    ) {
        let range = day_range(from, to).ok();
        let shown = range.map(|r| (r.from().to_string(), r.to().to_string()));
        assert_eq!(shown, expected.map(|(f, t)| (f.to_owned(), t.to_owned())));
    }

    #[test]
    fn a_bad_range_is_an_invalid_argument() {
        assert_eq!(
            day_range("x", "").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[rstest]
    #[case(StatsError::Store(StoreError::Unavailable("down".into())), tonic::Code::Unavailable)]
    #[case(StatsError::Store(StoreError::CircuitOpen), tonic::Code::Unavailable)]
    #[case(StatsError::Store(StoreError::Unexpected("bug".into())), tonic::Code::Internal)]
    #[case(StatsError::Store(StoreError::Rejected("bug: date out of range".into())), tonic::Code::InvalidArgument)]
    fn maps_store_failures(#[case] e: StatsError, #[case] code: tonic::Code) {
        let status = status(e);
        assert_eq!(status.code(), code);
        assert!(!status.message().contains("bug"));
    }
}
