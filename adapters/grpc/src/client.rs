use std::time::Duration;

use application::ports::{AnalyticsError, AnalyticsQuery};
use async_trait::async_trait;
use domain::ShortCode;
use tonic::transport::{Channel, Endpoint};

use crate::proto::GetClickCountRequest;
use crate::proto::analytics_client::AnalyticsClient;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http://host:port` of analytics-rpc.
    pub url: String,
    /// How long one call may take before url-api answers without the count.
    pub timeout: Duration,
}

/// `AnalyticsQuery` over gRPC. The channel connects lazily and reconnects by itself, so
/// analytics-rpc being down at start, or restarting, only makes counts unknown for a while.
#[derive(Debug, Clone)]
pub struct GrpcAnalytics {
    client: AnalyticsClient<Channel>,
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
        })
    }
}

#[async_trait]
impl AnalyticsQuery for GrpcAnalytics {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, AnalyticsError> {
        let request = GetClickCountRequest {
            short_code: code.to_string(),
        };
        // Clones of a tonic client share one channel: cheap, and needed for &self.
        let response = self
            .client
            .clone()
            .get_click_count(request)
            .await
            .map_err(|status| {
                AnalyticsError::Unavailable(format!("{:?}: {}", status.code(), status.message()))
            })?;
        Ok(response.into_inner().total_clicks)
    }
}
