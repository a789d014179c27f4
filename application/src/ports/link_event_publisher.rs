use domain::LinkEvent;

/// Tells the service's other replicas that a link changed, so that they drop their copies of
/// it. Queue and return, as clicks are: a delete never waits on the broker and never fails for
/// it. A replica that misses the news stops serving its copy when the copy expires (the
/// cache's TTL bounds it), so delivery is the publisher's job and failures are its to count.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait LinkEventPublisher: Send + Sync + 'static {
    fn publish(&self, event: LinkEvent);
}

impl<T: LinkEventPublisher + ?Sized> LinkEventPublisher for std::sync::Arc<T> {
    fn publish(&self, event: LinkEvent) {
        (**self).publish(event);
    }
}

/// One process and no other copies to tell (the embedded shortener).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReplicas;

impl LinkEventPublisher for NoReplicas {
    fn publish(&self, _: LinkEvent) {}
}
