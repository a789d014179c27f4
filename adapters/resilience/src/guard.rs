//! The outbound stack of one port: timeout around breaker around the adapter.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use application::ports::{AnalyticsError, PublishError, RepoError, StoreError};

use crate::breaker::Breaker;
use crate::clock::{MonotonicClock, ThreadRandom};

/// Why a guarded call never produced its own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The breaker refused it.
    CircuitOpen,
    /// It took longer than the port's timeout and was abandoned.
    TimedOut(Duration),
}

/// What a port's error type tells the guard: which errors count against the breaker (each port
/// has its own rule), and how a rejection is reported in the port's own terms.
pub trait GuardedError: Sized {
    fn counts_as_failure(&self) -> bool;
    fn rejected(rejection: Rejection) -> Self;
}

/// One dependency's protection: its breaker, and how long a call may take.
#[derive(Debug, Clone)]
pub struct Guard {
    breaker: Arc<Breaker>,
    timeout: Option<Duration>,
}

impl Guard {
    pub fn new(breaker: Arc<Breaker>, timeout: Option<Duration>) -> Self {
        Self { breaker, timeout }
    }

    /// A guard on the real clock and chance, for a dependency named `name` (target and port,
    /// as go-zero names its breakers).
    pub fn for_dependency(name: &str, timeout: Option<Duration>) -> Self {
        let breaker = Arc::new(Breaker::new(
            name,
            Arc::new(MonotonicClock::new()),
            Arc::new(ThreadRandom),
        ));
        breaker.observe();
        Self::new(breaker, timeout)
    }

    /// Runs the call as timeout(breaker(call)). A call the timeout abandons drops its breaker
    /// ticket unsettled, which counts as a failure: the same accounting as go-zero's
    /// breaker-outside-timeout order.
    ///
    /// # Errors
    /// The call's own error, or the port's error for a [`Rejection`].
    pub async fn run<T, E: GuardedError>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let broken = async {
            let ticket = self
                .breaker
                .allow()
                .map_err(|_| E::rejected(Rejection::CircuitOpen))?;
            let outcome = call.await;
            match &outcome {
                Err(e) if e.counts_as_failure() => ticket.failure(),
                _ => ticket.success(),
            }
            outcome
        };
        match self.timeout {
            Some(limit) => tokio::time::timeout(limit, broken)
                .await
                .unwrap_or_else(|_| Err(E::rejected(Rejection::TimedOut(limit)))),
            None => broken.await,
        }
    }

    /// The same for a call that can't block (a queue hand-off): breaker only.
    ///
    /// # Errors
    /// The call's own error, or the port's error for an open breaker.
    pub fn run_now<T, E: GuardedError>(&self, call: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let ticket = self
            .breaker
            .allow()
            .map_err(|_| E::rejected(Rejection::CircuitOpen))?;
        let outcome = call();
        match &outcome {
            Err(e) if e.counts_as_failure() => ticket.failure(),
            _ => ticket.success(),
        }
        outcome
    }
}

fn timed_out(limit: Duration) -> String {
    format!("no answer within {} ms", limit.as_millis())
}

/// Only a store that can't serve counts. A taken code is an answer (and not-found is
/// `Ok(None)`, never an error); input the store refuses for its content is the caller's error;
/// and an unexpected error (a bug, a missing table) is not something a pause would mend, while
/// counting it would let one unforeseen input open the breaker for every caller.
impl GuardedError for RepoError {
    fn counts_as_failure(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    fn rejected(rejection: Rejection) -> Self {
        match rejection {
            Rejection::CircuitOpen => Self::CircuitOpen,
            Rejection::TimedOut(limit) => Self::Unavailable(timed_out(limit)),
        }
    }
}

/// As for links: only a store that can't serve counts.
impl GuardedError for StoreError {
    fn counts_as_failure(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    fn rejected(rejection: Rejection) -> Self {
        match rejection {
            Rejection::CircuitOpen => Self::CircuitOpen,
            Rejection::TimedOut(limit) => Self::Unavailable(timed_out(limit)),
        }
    }
}

/// gRPC: only the codes go-zero counts (the client sorts them into `Unavailable`).
impl GuardedError for AnalyticsError {
    fn counts_as_failure(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    fn rejected(rejection: Rejection) -> Self {
        match rejection {
            Rejection::CircuitOpen => Self::Unavailable("circuit breaker is open".into()),
            Rejection::TimedOut(limit) => Self::Unavailable(timed_out(limit)),
        }
    }
}

/// Kafka: a click that couldn't be queued counts.
impl GuardedError for PublishError {
    fn counts_as_failure(&self) -> bool {
        true
    }

    fn rejected(rejection: Rejection) -> Self {
        match rejection {
            Rejection::CircuitOpen => Self::Rejected("circuit breaker is open".into()),
            Rejection::TimedOut(limit) => Self::Rejected(timed_out(limit)),
        }
    }
}
