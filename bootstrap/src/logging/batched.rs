//! Log lines gathered in memory and written to stderr by a thread of their own, every 50 ms: one
//! write for all the lines of a tick instead of one per line (url-api writes a line per
//! request), and no thread is woken per line either. A request never waits on stderr: when the
//! reader stops reading and 4 MiB are waiting, further lines are dropped, and counted in a line
//! of their own once there is room again.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

const TICK: Duration = Duration::from_millis(50);
const MAX_PENDING: usize = 4 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct Pending {
    lines: Mutex<Vec<u8>>,
    dropped: AtomicU64,
}

impl Pending {
    fn push(&self, line: &[u8]) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() + line.len() > MAX_PENDING {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            lines.extend_from_slice(line);
        }
    }

    /// Writes what is pending; `spare` is the buffer to gather the next lines in.
    fn write_to(&self, out: &mut impl Write, spare: &mut Vec<u8>) {
        std::mem::swap(
            &mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner),
            spare,
        );
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(
                spare,
                "{{\"level\":\"WARN\",\"fields\":{{\"message\":\"log lines dropped: stderr was not read\",\"dropped\":{dropped}}}}}"
            );
        }
        // A failed write (no reader) loses these lines; there is nowhere else to report it.
        let _ = out.write_all(spare).and_then(|()| out.flush());
        spare.clear();
    }
}

/// Hands out writers that add a line to the pending batch.
#[derive(Clone)]
pub(crate) struct BatchedStderr {
    pending: Arc<Pending>,
}

/// Dropping it stops the writer thread once the last lines are written.
pub(crate) struct Flusher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Flusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flusher")
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer, and the guard of the thread that writes for it.
///
/// # Errors
/// When the thread can't be started.
pub(crate) fn stderr() -> io::Result<(BatchedStderr, Flusher)> {
    let pending = Arc::new(Pending::default());
    let (stop, stopped) = mpsc::channel::<()>();
    let writing = Arc::clone(&pending);
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut spare = Vec::new();
            let mut out = io::stderr();
            // Nothing is ever sent: the guard dropping the sender is the signal to stop.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                writing.write_to(&mut out, &mut spare);
            }
            writing.write_to(&mut out, &mut spare);
        })?;
    Ok((
        BatchedStderr { pending },
        Flusher {
            stop: Some(stop),
            thread: Some(thread),
        },
    ))
}

impl Write for &Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = &'a Pending;

    fn make_writer(&'a self) -> Self::Writer {
        &self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_in_order_in_one_batch() {
        let pending = Pending::default();
        (&pending).write_all(b"one\n").unwrap();
        (&pending).write_all(b"two\n").unwrap();
        let (mut out, mut spare) = (Vec::new(), Vec::new());
        pending.write_to(&mut out, &mut spare);
        assert_eq!(out, b"one\ntwo\n");
        pending.write_to(&mut out, &mut spare);
        assert_eq!(out, b"one\ntwo\n", "nothing twice");
    }

    #[test]
    fn past_the_limit_lines_are_dropped_and_counted_not_held() {
        let pending = Pending::default();
        let mut line = vec![b'x'; 1024 * 1024 - 1];
        line.push(b'\n');
        for _ in 0..6 {
            (&pending).write_all(&line).unwrap();
        }
        let (mut out, mut spare) = (Vec::new(), Vec::new());
        pending.write_to(&mut out, &mut spare);
        let text = String::from_utf8(out).unwrap();
        let last = text.lines().last().unwrap();
        let note: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(note["fields"]["dropped"], 2);
        assert_eq!(text.lines().count(), 5, "4 whole lines and the note");
    }
}
