use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::metrics::Meter;

/// One exported counter: its name, its description, and where it lives in the counts.
pub(crate) type Counted<T> = (&'static str, &'static str, fn(&T) -> &AtomicU64);

/// Exports atomic counters that the hot path bumps (cheaper than an instrument call per
/// event) as observable counters, read at each scrape.
pub(crate) fn observe_counters<T: Send + Sync + 'static, const N: usize>(
    meter: &Meter,
    counts: &Arc<T>,
    counters: [Counted<T>; N],
) {
    for (name, description, read) in counters {
        let counts = Arc::clone(counts);
        let _ = meter
            .u64_observable_counter(name)
            .with_description(description)
            .with_callback(move |observer| {
                observer.observe(read(&counts).load(Ordering::Relaxed), &[])
            })
            .build();
    }
}
