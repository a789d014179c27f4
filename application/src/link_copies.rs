use async_trait::async_trait;
use domain::LinkEvent;

/// The driving port through which a part that keeps copies of links (url-api's redirect
/// cache) learns of changes made through another replica. An inbound adapter (the link-events
/// listener) calls it; the cache implements it and knows nothing of where the news came from.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait LinkCopies: Send + Sync + 'static {
    /// Brings the copies in line with `event`.
    async fn follow(&self, event: LinkEvent);
}
