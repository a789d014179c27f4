use async_trait::async_trait;
use domain::{Link, LinkQuery, ShortCode, Visibility};

/// One page of links and the number of links that match the query in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkPage {
    pub links: Vec<Link>,
    pub total_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// Another link already holds the code. Only `insert` returns it.
    #[error("the short code is already taken")]
    CodeTaken,
    /// The store can't be reached or didn't answer in time; worth retrying later.
    #[error("link store unavailable: {0}")]
    Unavailable(String),
    /// The store refused what it was given because of its content (a value it can't hold):
    /// the caller's error, not the store's. Retrying the same input fails the same way.
    #[error("link store refused the input: {0}")]
    Rejected(String),
    /// Not even tried: the store has been failing, and its circuit breaker is giving it room
    /// to recover. Worth retrying later.
    #[error("link store circuit breaker is open")]
    CircuitOpen,
    /// Anything else the store reported.
    #[error("link store failed: {0}")]
    Unexpected(String),
}

/// Where links live.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait UrlRepo: Send + Sync + 'static {
    /// Stores a new link.
    ///
    /// # Errors
    /// [`RepoError::CodeTaken`] when the code is in use, else `Unavailable`, `Rejected` or
    /// `Unexpected`.
    async fn insert(&self, link: &Link) -> Result<(), RepoError>;

    /// The link with this code, if there is one.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`; a missing link is `Ok(None)`, not an error.
    async fn find(&self, code: &ShortCode) -> Result<Option<Link>, RepoError>;

    /// One page of the links `visible` covers, filtered and sorted as the query says.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`.
    async fn list(&self, query: &LinkQuery, visible: Visibility) -> Result<LinkPage, RepoError>;

    /// Removes the link; `Ok(false)` when there was none.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`.
    async fn delete(&self, code: &ShortCode) -> Result<bool, RepoError>;
}
