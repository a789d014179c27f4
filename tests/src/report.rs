//! Figures the fault tests measure (times to fail fast and to recover, requests lost). They are
//! reported, never asserted on: these machines are shared and noisy. With `FAULT_REPORT` set to
//! a file, each figure is appended there too, so CI can print them after the tests.

use std::io::Write;

pub fn figure(test: &str, what: &str, value: impl std::fmt::Display) {
    let line = format!("{test}: {what}: {value}");
    eprintln!("{line}");
    if let Ok(path) = std::env::var("FAULT_REPORT")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
