use std::time::{Duration, Instant};

use application::ports::{AnalyticsError, AnalyticsQuery};
use async_trait::async_trait;
use domain::ShortCode;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::metrics::{Metadata, RpcMetrics};
use crate::proto::GetClickCountRequest;
use crate::token::RpcToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const GET_CLICK_COUNT: &str = "/analytics.v1.Analytics/GetClickCount";
use crate::proto::analytics_client::AnalyticsClient;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http://host:port` of analytics-rpc.
    pub url: String,
    /// How long one call may take before url-api answers without the count.
    pub timeout: Duration,
    /// Sent with every call when analytics-rpc asks for one.
    pub token: Option<RpcToken>,
}

/// `AnalyticsQuery` over gRPC. The channel connects lazily and reconnects by itself, so
/// analytics-rpc being down at start, or restarting, only makes counts unknown for a while.
#[derive(Debug, Clone)]
pub struct GrpcAnalytics {
    client: AnalyticsClient<Channel>,
    metrics: RpcMetrics,
    token: Option<RpcToken>,
}

impl GrpcAnalytics {
    /// Must be called inside a tokio context: the channel's worker is a tokio task.
    ///
    /// # Errors
    /// When the URL is not a usable endpoint.
    pub fn new(config: &ClientConfig) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(config.url.clone())?
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .connect_lazy();
        Ok(Self {
            client: AnalyticsClient::new(channel),
            metrics: RpcMetrics::new("client"),
            token: config.token.clone(),
        })
    }
}

#[async_trait]
impl AnalyticsQuery for GrpcAnalytics {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError> {
        let span = tracing::info_span!(
            "grpc call",
            otel.name = GET_CLICK_COUNT,
            otel.kind = "client",
            rpc.method = GET_CLICK_COUNT,
        );
        let mut request = tonic::Request::new(GetClickCountRequest {
            short_code: code.to_string(),
        });
        if let Some(token) = &self.token {
            token.attach(request.metadata_mut());
        }
        // The callee continues this trace.
        let context = span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut Metadata(request.metadata_mut()));
        });
        let started = Instant::now();
        // Clones of a tonic client share one channel: cheap, and needed for &self.
        let response = self
            .client
            .clone()
            .get_click_count(request)
            .instrument(span)
            .await;
        let code = response.as_ref().map_or_else(Status::code, |_| Code::Ok);
        self.metrics
            .record(GET_CLICK_COUNT, code, started.elapsed());
        Ok(response
            .map_err(|status| analytics_error(&status))?
            .into_inner()
            .total_clicks)
    }
}

/// go-zero's rule for which gRPC outcomes mean the server is in trouble (and so count against
/// its breaker); every other code is a refusal of this particular call.
pub fn counts_as_failure(code: Code) -> bool {
    matches!(
        code,
        Code::DeadlineExceeded
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
            | Code::Unimplemented
            | Code::ResourceExhausted
    )
}

fn analytics_error(status: &Status) -> AnalyticsError {
    let reason = format!("{:?}: {}", status.code(), status.message());
    if counts_as_failure(status.code()) {
        AnalyticsError::Unavailable(reason)
    } else {
        AnalyticsError::Refused(reason)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(Code::DeadlineExceeded, true)]
    #[case(Code::Internal, true)]
    #[case(Code::Unavailable, true)]
    #[case(Code::DataLoss, true)]
    #[case(Code::Unimplemented, true)]
    #[case(Code::ResourceExhausted, true)]
    #[case(Code::NotFound, false)]
    #[case(Code::InvalidArgument, false)]
    #[case(Code::Cancelled, false)]
    #[case(Code::PermissionDenied, false)]
    #[case(Code::Unknown, false)]
    fn sorts_codes_as_go_zero_does(#[case] code: Code, #[case] failure: bool) {
        assert_eq!(counts_as_failure(code), failure);
        assert_eq!(
            matches!(
                analytics_error(&Status::new(code, "x")),
                AnalyticsError::Unavailable(_)
            ),
            failure
        );
    }
}
