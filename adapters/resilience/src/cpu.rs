//! CPU usage as go-zero measures it (core/stat/usage.go, internal/cpu_linux.go): the process's
//! cgroup CPU time against the machine's, every 250 ms, in per mille of the cgroup's CPU limit,
//! smoothed as usage = 0.95 * previous + 0.05 * current.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Recent CPU usage, per mille of what this process may use (0..=1000).
pub trait CpuUsage: Send + Sync + 'static {
    fn per_mille(&self) -> u64;
}

/// A usage that is set by hand: tests, and the switch that turns shedding off.
#[derive(Debug, Default)]
pub struct FixedCpu(AtomicU64);

impl FixedCpu {
    pub fn new(per_mille: u64) -> Self {
        Self(AtomicU64::new(per_mille))
    }

    pub fn set(&self, per_mille: u64) {
        self.0.store(per_mille, Ordering::SeqCst);
    }
}

impl CpuUsage for FixedCpu {
    fn per_mille(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const SAMPLE_EVERY: Duration = Duration::from_millis(250);
const BETA: f64 = 0.95;

/// The sampler over /proc and the cgroup files, on a thread of its own.
#[derive(Debug)]
pub struct ProcCpu {
    smoothed: Arc<AtomicU64>,
}

impl ProcCpu {
    /// Starts sampling. Where the files can't be read (not Linux), usage stays 0 and nothing
    /// is ever shed.
    pub fn start() -> Self {
        let smoothed = Arc::new(AtomicU64::new(0));
        let shared = Arc::clone(&smoothed);
        let spawned = std::thread::Builder::new()
            .name("cpu-sampler".into())
            .spawn(move || {
                let mut previous = Sample::read();
                let mut usage = 0.0_f64;
                loop {
                    std::thread::sleep(SAMPLE_EVERY);
                    let current = Sample::read();
                    if let (Some(before), Some(now)) = (previous, current) {
                        usage = usage * BETA + now.per_mille_since(&before) * (1.0 - BETA);
                        shared.store(usage.round() as u64, Ordering::Relaxed);
                    }
                    previous = current;
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no CPU sampler: load shedding is off");
        }
        Self { smoothed }
    }
}

impl CpuUsage for ProcCpu {
    fn per_mille(&self) -> u64 {
        self.smoothed.load(Ordering::Relaxed)
    }
}

/// One reading: CPU time this process's cgroup has used, and the machine's total, in ns.
#[derive(Debug, Clone, Copy)]
struct Sample {
    used_ns: u64,
    machine_ns: u64,
    cores: f64,
    limit_cores: f64,
}

impl Sample {
    fn read() -> Option<Self> {
        let (machine_ns, cores) = machine_cpu()?;
        // Read at every sample: a process can be moved to another cgroup while it runs.
        let own = OwnCgroup::of_this_process();
        let used_ns = cgroup_usage_ns(&own).or_else(process_usage_ns)?;
        Some(Self {
            used_ns,
            machine_ns,
            cores,
            limit_cores: cgroup_limit_cores(&own).unwrap_or(cores).min(cores),
        })
    }

    fn per_mille_since(&self, before: &Self) -> f64 {
        let used = self.used_ns.saturating_sub(before.used_ns) as f64;
        let total = self.machine_ns.saturating_sub(before.machine_ns) as f64;
        if total <= 0.0 || self.limit_cores <= 0.0 {
            return 0.0;
        }
        (used * self.cores * 1000.0 / (total * self.limit_cores)).min(1000.0)
    }
}

/// USER_HZ, the unit of /proc/stat, is 100 on every Linux build that matters.
const NS_PER_TICK: u64 = 10_000_000;

/// Total CPU time of the machine (all cores) and the number of cores, from /proc/stat.
fn machine_cpu() -> Option<(u64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let mut lines = stat.lines();
    let total: u64 = lines
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|n| n.parse::<u64>().ok())
        .sum();
    let cores = lines
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some((total * NS_PER_TICK, cores.max(1) as f64))
}

fn cgroup_usage_ns(own: &OwnCgroup) -> Option<u64> {
    // cgroup v2, then v1.
    if let Some(stat) = own.read(&own.unified, "cpu.stat") {
        let usec = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse::<u64>()
            .ok()?;
        return Some(usec * 1000);
    }
    own.read(&own.cpuacct, "cpuacct/cpuacct.usage")?
        .trim()
        .parse()
        .ok()
}

/// Where this process's own cgroup sits in each hierarchy, from `/proc/self/cgroup`. go-zero
/// reads the hierarchies' roots, which inside a container (its own cgroup namespace) are the
/// container's cgroup. On a host they are the whole machine: a url-api running as a systemd
/// service, or beside its database and a load generator, would shed for their CPU too. So the
/// process's own cgroup is read where it can be, and the root where it can't (a container
/// without a cgroup namespace shows a path its mounts don't have).
#[derive(Debug, Default, PartialEq, Eq)]
struct OwnCgroup {
    /// cgroup v2: the path under /sys/fs/cgroup.
    unified: Option<String>,
    /// cgroup v1: the path in the cpuacct hierarchy, and in the cpu one.
    cpuacct: Option<String>,
    cpu: Option<String>,
}

impl OwnCgroup {
    fn of_this_process() -> Self {
        std::fs::read_to_string("/proc/self/cgroup")
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Lines `ID:CONTROLLERS:PATH`; v2's has no controllers (`0::/path`).
    fn parse(text: &str) -> Self {
        let mut own = Self::default();
        for line in text.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let path = Some(path.trim_end().to_owned());
            if controllers.is_empty() {
                own.unified = path;
                continue;
            }
            for controller in controllers.split(',') {
                match controller {
                    "cpuacct" => own.cpuacct.clone_from(&path),
                    "cpu" => own.cpu.clone_from(&path),
                    _ => {}
                }
            }
        }
        own
    }

    /// `/sys/fs/cgroup/{hierarchy}{own path}/{file}` (hierarchy being the part of `file` before
    /// its last `/`, for v1), or the hierarchy's root when that can't be read.
    fn read(&self, own: &Option<String>, file: &str) -> Option<String> {
        let (hierarchy, name) = file.rsplit_once('/').unwrap_or(("", file));
        let root = format!("/sys/fs/cgroup/{hierarchy}");
        own.as_deref()
            .map(|path| format!("{root}{}/{name}", path.trim_end_matches('/')))
            .and_then(|at| std::fs::read_to_string(at).ok())
            .or_else(|| {
                std::fs::read_to_string(format!("{}/{name}", root.trim_end_matches('/'))).ok()
            })
    }
}

/// Outside any readable cgroup: this process's own CPU time, from /proc/self/stat.
fn process_usage_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * NS_PER_TICK)
}

fn cgroup_limit_cores(own: &OwnCgroup) -> Option<f64> {
    if let Some(max) = own.read(&own.unified, "cpu.max") {
        let mut parts = max.split_whitespace();
        let quota = parts.next()?.parse::<f64>().ok()?; // "max" (no limit) fails here
        let period = parts.next()?.parse::<f64>().ok()?;
        return (period > 0.0).then_some(quota / period);
    }
    let number = |file| own.read(&own.cpu, file)?.trim().parse::<f64>().ok();
    let quota = number("cpu/cpu.cfs_quota_us")?;
    let period = number("cpu/cpu.cfs_period_us")?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_per_mille_of_the_limit() {
        let before = Sample {
            used_ns: 0,
            machine_ns: 0,
            cores: 2.0,
            limit_cores: 2.0,
        };
        // One core busy for a second on a two-core machine with no limit: half of it.
        let after = Sample {
            used_ns: 1_000_000_000,
            machine_ns: 2_000_000_000,
            ..before
        };
        assert!((after.per_mille_since(&before) - 500.0).abs() < 1e-9);
        // The same with a one-core limit: all of it.
        let limited = Sample {
            limit_cores: 1.0,
            ..after
        };
        assert!(
            (limited.per_mille_since(&Sample {
                limit_cores: 1.0,
                ..before
            }) - 1000.0)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn finds_its_own_cgroup_in_each_version() {
        let v1 = "12:pids:/system.slice/url-api.service\n\
                  4:cpu,cpuacct:/system.slice/url-api.service\n\
                  1:name=systemd:/system.slice/url-api.service\n";
        assert_eq!(
            OwnCgroup::parse(v1),
            OwnCgroup {
                unified: None,
                cpuacct: Some("/system.slice/url-api.service".into()),
                cpu: Some("/system.slice/url-api.service".into()),
            }
        );
        let v2 = "0::/kubepods/pod1/abc\n";
        assert_eq!(
            OwnCgroup::parse(v2),
            OwnCgroup {
                unified: Some("/kubepods/pod1/abc".into()),
                ..OwnCgroup::default()
            }
        );
        // Inside a container with its own cgroup namespace: the root, as go-zero reads it.
        assert_eq!(OwnCgroup::parse("0::/\n").unified.as_deref(), Some("/"));
    }

    #[test]
    fn reads_this_machine() {
        let sample = Sample::read().expect("/proc and a cgroup or /proc/self on Linux");
        assert!(sample.cores >= 1.0 && sample.limit_cores > 0.0 && sample.machine_ns > 0);
    }
}
