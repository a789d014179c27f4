use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

type Check = dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

/// One dependency's readiness check (its database, its Kafka brokers, its own listener).
#[derive(Clone)]
pub struct Probe {
    name: &'static str,
    check: Arc<Check>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").field("name", &self.name).finish()
    }
}

impl Probe {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name,
            check: Arc::new(move || Box::pin(check())),
        }
    }
}

/// All of a process's probes, checked together.
#[derive(Debug, Clone, Default)]
pub struct Probes(Vec<Probe>);

/// A probe that takes longer than this is reported as not ready.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Probes {
    pub fn new(probes: Vec<Probe>) -> Self {
        Self(probes)
    }

    /// Runs every probe at once; one line per probe that is not ready, empty when all are.
    pub async fn failures(&self) -> Vec<String> {
        let checks = self.0.iter().map(|probe| async move {
            match tokio::time::timeout(PROBE_TIMEOUT, (probe.check)()).await {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => Some(format!("{}: {reason}", probe.name)),
                Err(_) => Some(format!(
                    "{}: no answer within {} s",
                    probe.name,
                    PROBE_TIMEOUT.as_secs()
                )),
            }
        });
        futures::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn reports_each_probe_that_is_not_ready() {
        let probes = Probes::new(vec![
            Probe::new("database", || async { Ok(()) }),
            Probe::new("kafka", || async { Err("no brokers".to_owned()) }),
            Probe::new("slow", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            }),
        ]);
        assert_eq!(
            probes.failures().await,
            ["kafka: no brokers", "slow: no answer within 2 s"]
        );
    }
}
