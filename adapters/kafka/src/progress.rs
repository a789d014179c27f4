//! Whether the consumer keeps up. Each assigned partition's lag is read from the brokers (the
//! group's committed offset against the partition's end) on a timer of its own, so it tells
//! the truth even while the consume loop is stuck on a batch; and a consumer that has committed
//! nothing for a while, with messages waiting, is reported not ready.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaResult;

/// How often the lag is read from the brokers.
const LAG_EVERY: Duration = Duration::from_secs(5);
/// How long one reading may wait for the brokers.
const BROKER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(crate) struct Progress {
    stall_timeout: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    last_commit: Instant,
    /// Since when the lag has been above zero without a break, as last read.
    behind_since: Option<Instant>,
    /// Messages not yet committed, by partition, as last read.
    lag: HashMap<i32, i64>,
}

impl Progress {
    pub(crate) fn new(stall_timeout: Duration, now: Instant) -> Self {
        Self {
            stall_timeout,
            state: Mutex::new(State {
                last_commit: now,
                behind_since: None,
                lag: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn committed(&self, now: Instant) {
        self.state().last_commit = now;
    }

    pub(crate) fn read_lag(&self, lag: HashMap<i32, i64>, now: Instant) {
        let mut state = self.state();
        if lag.values().any(|&behind| behind > 0) {
            state.behind_since.get_or_insert(now);
        } else {
            state.behind_since = None;
        }
        state.lag = lag;
    }

    /// Messages not yet committed, by partition, as last read.
    pub(crate) fn lag(&self) -> HashMap<i32, i64> {
        self.state().lag.clone()
    }

    /// Not ready when messages have been waiting, and nothing has been committed, for longer
    /// than the stall timeout. An idle consumer (nothing to read) is ready however long ago it
    /// last committed.
    ///
    /// # Errors
    /// What is stalled, as one line.
    pub(crate) fn check(&self, now: Instant) -> Result<(), String> {
        let state = self.state();
        let Some(behind_since) = state.behind_since else {
            return Ok(());
        };
        let stalled = now.saturating_duration_since(behind_since.max(state.last_commit));
        if stalled <= self.stall_timeout {
            return Ok(());
        }
        let waiting: i64 = state.lag.values().sum();
        Err(format!(
            "nothing committed for {} s while {waiting} messages wait",
            stalled.as_secs()
        ))
    }
}

/// Reads the lag every few seconds, on a task of its own, for as long as the returned guard
/// lives. It holds the consumer weakly: a consumer dropped mid-run (a cancelled task) must
/// leave its group, not be kept in it by its own lag readings.
pub(crate) fn watch_lag(
    consumer: &Arc<StreamConsumer>,
    topic: String,
    progress: Arc<Progress>,
) -> Watching {
    let consumer = Arc::downgrade(consumer);
    Watching(tokio::spawn(async move {
        let mut every = tokio::time::interval(LAG_EVERY);
        loop {
            every.tick().await;
            let Some(consumer) = consumer.upgrade() else {
                return;
            };
            let topic = topic.clone();
            // Both readings are blocking requests to the brokers.
            match tokio::task::spawn_blocking(move || lag_of(&consumer, &topic)).await {
                Ok(Ok(lag)) => progress.read_lag(lag, Instant::now()),
                // The brokers probe reports them away; the last reading stands until they answer.
                Ok(Err(e)) => tracing::debug!(error = %e, "consumer lag not read"),
                Err(e) => tracing::warn!(error = %e, "consumer lag reading failed"),
            }
        }
    }))
}

/// Stops the lag readings when dropped.
pub(crate) struct Watching(tokio::task::JoinHandle<()>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// For each partition assigned to this consumer: its end offset less the group's committed
/// offset (its start, when the group has committed nothing there yet).
fn lag_of(consumer: &StreamConsumer, topic: &str) -> KafkaResult<HashMap<i32, i64>> {
    let assignment = consumer.assignment()?;
    let committed = consumer.committed_offsets(assignment, BROKER_TIMEOUT)?;
    let mut lag = HashMap::new();
    for partition in committed.elements_for_topic(topic) {
        let (start, end) =
            consumer.fetch_watermarks(topic, partition.partition(), BROKER_TIMEOUT)?;
        let next = match partition.offset() {
            Offset::Offset(next) => next,
            _ => start,
        };
        lag.insert(partition.partition(), (end - next).max(0));
    }
    Ok(lag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(60);

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_idle_consumer_is_ready_however_long_ago_it_committed() {
        let t0 = Instant::now();
        let progress = Progress::new(TIMEOUT, t0);
        progress.read_lag(HashMap::from([(0, 0), (1, 0)]), t0 + secs(3600));
        assert_eq!(progress.check(t0 + secs(3600)), Ok(()));
    }

    #[test]
    fn messages_waiting_with_no_commit_past_the_timeout_is_a_stall() {
        let t0 = Instant::now();
        let progress = Progress::new(TIMEOUT, t0);
        // Idle for an hour, then messages arrive: the hour of idling doesn't count.
        progress.read_lag(HashMap::from([(0, 7), (1, 5)]), t0 + secs(3600));
        assert_eq!(progress.check(t0 + secs(3610)), Ok(()));
        progress.read_lag(HashMap::from([(0, 9), (1, 5)]), t0 + secs(3650));
        assert_eq!(progress.check(t0 + secs(3660)), Ok(()));
        assert_eq!(
            progress.check(t0 + secs(3661)),
            Err("nothing committed for 61 s while 14 messages wait".to_owned())
        );
    }

    #[test]
    fn a_commit_or_a_caught_up_reading_ends_a_stall() {
        let t0 = Instant::now();
        let progress = Progress::new(TIMEOUT, t0);
        progress.read_lag(HashMap::from([(0, 7)]), t0);
        assert!(progress.check(t0 + secs(120)).is_err());

        progress.committed(t0 + secs(120));
        assert_eq!(progress.check(t0 + secs(150)), Ok(()));
        assert!(progress.check(t0 + secs(181)).is_err());

        progress.read_lag(HashMap::from([(0, 0)]), t0 + secs(185));
        assert_eq!(progress.check(t0 + secs(500)), Ok(()));
        assert_eq!(progress.lag(), HashMap::from([(0, 0)]));
    }

    #[test]
    fn under_steady_load_the_lag_never_reaches_zero_but_commits_keep_it_ready() {
        let t0 = Instant::now();
        let progress = Progress::new(TIMEOUT, t0);
        for minute in 1..=10 {
            let now = t0 + secs(60 * minute);
            progress.read_lag(HashMap::from([(0, 2000)]), now);
            progress.committed(now);
            assert_eq!(progress.check(now + secs(30)), Ok(()));
        }
    }
}
