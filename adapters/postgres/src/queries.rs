use std::future::Future;

use application::ports::RepoError;
use sea_orm::DatabaseConnection;

use crate::metrics::SqlMetrics;

/// How every store here runs a query: with its own handle on the pool, on sqlx's runtime, and
/// measured under go-zero's SQL metrics.
#[derive(Debug, Clone)]
pub(crate) struct Queries {
    db: DatabaseConnection,
    metrics: SqlMetrics,
}

impl Queries {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            metrics: SqlMetrics::new(),
        }
    }

    pub(crate) async fn run<T, Q>(
        &self,
        command: &'static str,
        query: impl FnOnce(DatabaseConnection) -> Q,
    ) -> Result<T, RepoError>
    where
        T: Send + 'static,
        Q: Future<Output = Result<T, RepoError>> + Send + 'static,
    {
        let query = on_sqlx_runtime(query(self.db.clone()));
        self.metrics.measure(command, query).await
    }
}

/// Runs a query as one task on the tokio runtime sqlx's sockets belong to. Awaited from
/// url-api's async-std executor, a query would otherwise cross between the two runtimes at
/// each step (pool, write, read, return to the pool): on a cache miss that cost a third of the
/// redirect's CPU. A caller that gives up (a timeout) leaves the query to finish on its own,
/// and its connection back in the pool. Outside a tokio runtime it runs where it is awaited.
async fn on_sqlx_runtime<T: Send + 'static>(
    query: impl Future<Output = Result<T, RepoError>> + Send + 'static,
) -> Result<T, RepoError> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn(query)
            .await
            .map_err(|e| RepoError::Unexpected(format!("query task failed: {e}")))?,
        Err(_) => query.await,
    }
}
