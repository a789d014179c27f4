//! go-zero's rolling window (core/collection/rollingwindow.go): a ring of buckets of equal
//! width over time. A bucket is reset lazily, when time comes back round to it.

use std::time::Duration;

#[derive(Debug)]
pub(crate) struct RollingWindow<B> {
    /// (bucket number since the clock's start, contents)
    buckets: Vec<(u64, B)>,
    width: Duration,
    /// The shedder leaves the bucket still filling out of its sums; the breaker counts it.
    ignore_current: bool,
}

impl<B: Default + Clone> RollingWindow<B> {
    pub(crate) fn new(size: usize, width: Duration, ignore_current: bool) -> Self {
        Self {
            buckets: vec![(u64::MAX, B::default()); size],
            width,
            ignore_current,
        }
    }

    fn number(&self, now: Duration) -> u64 {
        u64::try_from(now.as_nanos() / self.width.as_nanos().max(1)).unwrap_or(u64::MAX)
    }

    fn slot(&self, number: u64) -> usize {
        usize::try_from(number % self.buckets.len() as u64).unwrap_or(0)
    }

    /// Updates the bucket `now` falls in.
    pub(crate) fn add(&mut self, now: Duration, update: impl FnOnce(&mut B)) {
        let number = self.number(now);
        let slot = self.slot(number);
        let bucket = &mut self.buckets[slot];
        if bucket.0 != number {
            *bucket = (number, B::default());
        }
        update(&mut bucket.1);
    }

    /// The window's buckets, oldest first; buckets nothing was added to are empty.
    pub(crate) fn buckets(&self, now: Duration) -> impl Iterator<Item = B> + '_ {
        let current = self.number(now);
        let newest = if self.ignore_current {
            current.checked_sub(1)
        } else {
            Some(current)
        };
        let size = self.buckets.len() as u64;
        let count = if self.ignore_current { size - 1 } else { size };
        let numbers = newest
            .map(|newest| newest.saturating_sub(count - 1)..=newest)
            .into_iter()
            .flatten();
        let padding = count.saturating_sub(newest.map_or(0, |n| n + 1));
        std::iter::repeat_n(B::default(), usize::try_from(padding).unwrap_or(0)).chain(numbers.map(
            move |number| {
                let (stamp, bucket) = &self.buckets[self.slot(number)];
                if *stamp == number {
                    bucket.clone()
                } else {
                    B::default()
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTH: Duration = Duration::from_millis(100);

    fn at(buckets: u64) -> Duration {
        WIDTH * u32::try_from(buckets).unwrap()
    }

    #[test]
    fn counts_within_the_window_and_forgets_what_falls_out() {
        let mut window: RollingWindow<u32> = RollingWindow::new(4, WIDTH, false);
        window.add(at(0), |b| *b += 1);
        window.add(at(1), |b| *b += 2);
        window.add(at(3), |b| *b += 4);
        assert_eq!(window.buckets(at(3)).collect::<Vec<_>>(), [1, 2, 0, 4]);
        // Four buckets later the first two have fallen out; a write to the ring slot they
        // shared resets it.
        window.add(at(5), |b| *b += 8);
        assert_eq!(window.buckets(at(5)).collect::<Vec<_>>(), [0, 4, 0, 8]);
        assert_eq!(window.buckets(at(20)).sum::<u32>(), 0);
    }

    #[test]
    fn can_leave_the_current_bucket_out() {
        let mut window: RollingWindow<u32> = RollingWindow::new(4, WIDTH, true);
        window.add(at(1), |b| *b += 1);
        window.add(at(2), |b| *b += 2);
        assert_eq!(window.buckets(at(2)).collect::<Vec<_>>(), [0, 0, 1]);
    }
}
