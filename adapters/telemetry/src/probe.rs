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
    required: bool,
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
            required: true,
        }
    }

    /// A dependency the process serves without, for a while (url-api queues clicks while
    /// Kafka is away): its failure is reported, but the process stays ready, so that an
    /// orchestrator doesn't take every replica out of service at once for it.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// What the probes found: a line for each that failed, by whether the process can serve.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Dependencies the process can't serve without: it is not ready.
    pub unready: Vec<String>,
    /// Dependencies it serves without, for now.
    pub degraded: Vec<String>,
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

    /// Runs every probe at once; a line for each that is not ready.
    pub async fn check(&self) -> Health {
        let checks = self.0.iter().map(|probe| async move {
            let failure = match tokio::time::timeout(PROBE_TIMEOUT, (probe.check)()).await {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => Some(format!("{}: {reason}", probe.name)),
                Err(_) => Some(format!(
                    "{}: no answer within {} s",
                    probe.name,
                    PROBE_TIMEOUT.as_secs()
                )),
            };
            failure.map(|line| (probe.required, line))
        });
        let mut health = Health::default();
        for (required, line) in futures::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
        {
            if required {
                health.unready.push(line);
            } else {
                health.degraded.push(line);
            }
        }
        health
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn reports_each_probe_that_is_not_ready() {
        let probes = Probes::new(vec![
            Probe::new("database", || async { Ok(()) }),
            Probe::new("kafka", || async { Err("no brokers".to_owned()) }).optional(),
            Probe::new("listener", || async { Err("refused".to_owned()) }),
            Probe::new("slow", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            }),
        ]);
        assert_eq!(
            probes.check().await,
            Health {
                unready: vec![
                    "listener: refused".to_owned(),
                    "slow: no answer within 2 s".to_owned()
                ],
                degraded: vec!["kafka: no brokers".to_owned()],
            }
        );
    }
}
