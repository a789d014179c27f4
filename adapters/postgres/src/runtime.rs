use std::future::Future;

use application::ports::RepoError;

/// Runs a query as one task on the tokio runtime sqlx's sockets belong to. Awaited from
/// url-api's async-std executor, a query would otherwise cross between the two runtimes at
/// each step (pool, write, read, return to the pool): on a cache miss that cost a third of the
/// redirect's CPU. A caller that gives up (a timeout) leaves the query to finish on its own,
/// and its connection back in the pool. Outside a tokio runtime it runs where it is awaited.
pub(crate) async fn on_sqlx_runtime<T: Send + 'static>(
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
