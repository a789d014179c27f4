//! analytics-consumer: counts click events from Kafka into PostgreSQL.

use std::process::ExitCode;

use bootstrap::analytics_consumer::AnalyticsConsumer;
use bootstrap::config::AnalyticsConsumerConfig;
use bootstrap::main_support::{configure, started};
use bootstrap::shutdown;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, _telemetry) =
        match configure("analytics-consumer", AnalyticsConsumerConfig::load, |c| {
            &c.common
        }) {
            Ok(config) => config,
            Err(code) => return code,
        };
    let consumer = match started("analytics-consumer", AnalyticsConsumer::build(config).await) {
        Ok(consumer) => consumer,
        Err(code) => return code,
    };
    consumer.run_until(shutdown::terminated()).await;
    ExitCode::SUCCESS
}
