//! Where a scenario's CPU went: the time each named process used, and the rest of the machine
//! (wrk, PostgreSQL, Kafka, the kernel's network work), per answered request. On two shared
//! cores a rate is bounded by everything that runs beside the server; this says how much of
//! each request was the server's own work.

/// The kernel's clock ticks per second for /proc's CPU times (USER_HZ: 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// The processes a scenario's CPU is split between; the machine's total is always taken.
pub(crate) struct Accounts(Vec<(String, u32)>);

/// CPU ticks used so far: by each process of [`Accounts`], then by the whole machine.
pub(crate) struct Snapshot {
    processes: Vec<u64>,
    machine: u64,
}

impl Accounts {
    pub(crate) fn of(named: &[(&str, u32)]) -> Self {
        Self(
            named
                .iter()
                .map(|(name, pid)| ((*name).to_owned(), *pid))
                .collect(),
        )
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            processes: self.0.iter().map(|(_, pid)| process_ticks(*pid)).collect(),
            machine: machine_ticks(),
        }
    }

    /// Microseconds of CPU per request since `before`, each process's and the rest's, as one
    /// phrase for a table's notes.
    pub(crate) fn per_request(&self, before: &Snapshot, requests: f64) -> String {
        let now = self.snapshot();
        let us = |ticks: u64| ticks as f64 / TICKS_PER_S * 1e6 / requests.max(1.0);
        let mut parts = Vec::new();
        let mut named_total = 0;
        for (((name, _), after), before) in self.0.iter().zip(&now.processes).zip(&before.processes)
        {
            let used = after.saturating_sub(*before);
            named_total += used;
            parts.push(format!("{name} {:.0}", us(used)));
        }
        let rest = now
            .machine
            .saturating_sub(before.machine)
            .saturating_sub(named_total);
        parts.push(format!("the rest {:.0}", us(rest)));
        format!("CPU µs per request: {}", parts.join(", "))
    }
}

/// User and system time of one process (its threads included), from /proc/PID/stat; 0 once
/// it is gone.
fn process_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces: state is the
    // first of them, utime the 12th and stime the 13th.
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Busy time of every core together, from /proc/stat's first line: everything but idle and
/// iowait (guest time is already inside user).
fn machine_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else {
        return 0;
    };
    let ticks: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    at(0) + at(1) + at(2) + at(5) + at(6) + at(7)
}
