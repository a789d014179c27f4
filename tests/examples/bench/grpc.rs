//! A gRPC load loop for analytics-rpc: concurrent callers of GetClickCount, bounded by time and
//! by count.

use std::time::{Duration, Instant};

use adapter_grpc::proto::GetClickCountRequest;
use adapter_grpc::proto::analytics_client::AnalyticsClient;

/// Throughput and latency of the calls to one link.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Latency {
    pub(crate) calls: usize,
    /// Calls the server refused or failed.
    pub(crate) refused: usize,
    pub(crate) calls_per_s: f64,
    /// `None` when every call was refused.
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

/// What one or more runs of callers saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls {
    took: Vec<Duration>,
    refused: usize,
    elapsed: Duration,
}

impl Calls {
    pub(crate) fn extend(&mut self, other: Self) {
        self.took.extend(other.took);
        self.refused += other.refused;
        self.elapsed += other.elapsed;
    }

    pub(crate) fn latency(&self) -> Latency {
        let mut took = self.took.clone();
        took.sort();
        let at = |q: f64| {
            let i = ((took.len() as f64 * q) as usize).min(took.len().checked_sub(1)?);
            Some(took[i].as_secs_f64() * 1e3)
        };
        Latency {
            calls: took.len(),
            refused: self.refused,
            calls_per_s: took.len() as f64 / self.elapsed.as_secs_f64(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
        }
    }
}

/// 16 callers asking for `code`'s count (and checking it is `expected`) for `duration` or
/// `max_calls` calls in all, whichever comes first.
pub(crate) async fn get_click_count(
    addr: &str,
    code: &str,
    expected: u64,
    duration: Duration,
    max_calls: usize,
) -> Calls {
    const CALLERS: usize = 16;
    let client = AnalyticsClient::connect(format!("http://{addr}"))
        .await
        .expect("connect to analytics-rpc");
    let started = Instant::now();
    let callers = (0..CALLERS).map(|_| {
        let mut client = client.clone();
        let code = code.to_owned();
        async_std::task::spawn(async move {
            let (mut took, mut refused) = (Vec::new(), 0);
            while started.elapsed() < duration && took.len() + refused < max_calls / CALLERS {
                let call = Instant::now();
                let answer = client
                    .get_click_count(GetClickCountRequest {
                        short_code: code.clone(),
                    })
                    .await;
                match answer {
                    Ok(count) => {
                        took.push(call.elapsed());
                        assert_eq!(count.into_inner().total_clicks, expected, "a wrong count");
                    }
                    // The server's guards (shedding, breaker, timeout) are part of what is
                    // measured: their refusals are counted, not hidden.
                    Err(_) => refused += 1,
                }
            }
            (took, refused)
        })
    });
    let mut took = Vec::new();
    let mut refused = 0;
    for (caller_took, caller_refused) in futures::future::join_all(callers).await {
        took.extend(caller_took);
        refused += caller_refused;
    }
    Calls {
        took,
        refused,
        elapsed: started.elapsed(),
    }
}
