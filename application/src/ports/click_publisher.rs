use domain::ClickEvent;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The event could not even be queued (queue full, publisher closed).
    #[error("click event not queued: {0}")]
    Rejected(String),
}

/// Hands click events to the analytics pipeline.
///
/// Deliberately not async: a redirect must never wait on the broker, so the contract is "queue
/// and return". Delivery happens in the background and is the publisher's job.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait ClickPublisher: Send + Sync + 'static {
    /// Queues the event for delivery without blocking.
    ///
    /// # Errors
    /// [`PublishError::Rejected`] when the event can't be queued; it is then lost.
    fn publish(&self, event: ClickEvent) -> Result<(), PublishError>;
}

/// Lets one publisher be shared (url-api also flushes it on shutdown).
impl<T: ClickPublisher + ?Sized> ClickPublisher for std::sync::Arc<T> {
    fn publish(&self, event: ClickEvent) -> Result<(), PublishError> {
        (**self).publish(event)
    }
}
