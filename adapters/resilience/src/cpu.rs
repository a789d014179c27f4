//! The CPU signal the shedder weighs: this process's own, never the host's. Sampled every
//! 250 ms and smoothed as go-zero does (usage = 0.95 * previous + 0.05 * current), in per mille
//! of the CPU this process may use.
//!
//! go-zero reads its cgroup hierarchy's root. In a container that is the container; on a host
//! (cgroup v1, a VM without containers, a login session) it is every process there, and a busy
//! database or load generator beside the service made it shed. Here the signal is one of:
//! - **its own cgroup**, when one holds this process alone (a container, a systemd service): the
//!   cgroup's CPU time against its quota, which is what throttles it;
//! - **its own CPU time** otherwise (the host's root cgroup, a session shared with other
//!   programs): user + system time from `/proc/self/stat`, against the cores it may use.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
/// USER_HZ, the unit of /proc's CPU times, is 100 on every Linux build that matters.
const NS_PER_TICK: u64 = 10_000_000;

/// The sampler over /proc and the cgroup files, on a thread of its own.
#[derive(Debug)]
pub struct ProcCpu {
    smoothed: Arc<AtomicU64>,
}

impl ProcCpu {
    /// Starts sampling this process's signal. Where the files can't be read (not Linux),
    /// usage stays 0 and nothing is ever shed.
    pub fn start() -> Self {
        let host = Host::this_process();
        let signal = host.signal();
        tracing::info!(
            ?signal,
            limit_cores = host.limit_cores(&signal),
            "CPU signal for load shedding"
        );
        let smoothed = Arc::new(AtomicU64::new(0));
        let shared = Arc::clone(&smoothed);
        let spawned = std::thread::Builder::new()
            .name("cpu-sampler".into())
            .spawn(move || {
                let mut previous = host.sample(&signal, Instant::now());
                let mut usage = 0.0_f64;
                loop {
                    std::thread::sleep(SAMPLE_EVERY);
                    let current = host.sample(&signal, Instant::now());
                    if let (Some(before), Some(now)) = (&previous, &current) {
                        usage = usage * BETA + now.per_mille_since(before) * (1.0 - BETA);
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

/// What the sampler weighs; chosen once, at start.
#[derive(Debug, Clone, PartialEq)]
enum Signal {
    /// A cgroup holding this process alone: the directory of its CPU accounting.
    OwnCgroup {
        dir: PathBuf,
        version: CgroupVersion,
    },
    /// This process's own user + system time.
    ProcessTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CgroupVersion {
    V1,
    V2,
}

/// One reading: CPU time used so far, when, and the cores it may use.
#[derive(Debug, Clone, Copy)]
struct Sample {
    used_ns: u64,
    at: Instant,
    limit_cores: f64,
}

impl Sample {
    fn per_mille_since(&self, before: &Self) -> f64 {
        let used = self.used_ns.saturating_sub(before.used_ns) as f64;
        let wall = self.at.saturating_duration_since(before.at).as_nanos() as f64;
        if wall <= 0.0 || self.limit_cores <= 0.0 {
            return 0.0;
        }
        (used * 1000.0 / (wall * self.limit_cores)).min(1000.0)
    }
}

/// The files the signal is read from: under `/` for this process, under a fixture in tests.
#[derive(Debug, Clone)]
struct Host {
    root: PathBuf,
    pid: u32,
    /// Cores this process may run on (its affinity, and its quota rounded up).
    cores: f64,
}

impl Host {
    fn this_process() -> Self {
        Self {
            root: PathBuf::from("/"),
            pid: std::process::id(),
            cores: std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64),
        }
    }

    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(path.trim_start_matches('/'))).ok()
    }

    /// Its own cgroup if one holds this process alone, else its own CPU time.
    fn signal(&self) -> Signal {
        let cgroups = self.read("/proc/self/cgroup").unwrap_or_default();
        let mut candidates = Vec::new();
        for line in cgroups.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let path = path.trim_end().trim_end_matches('/');
            if controllers.is_empty() {
                candidates.push((format!("/sys/fs/cgroup{path}"), CgroupVersion::V2));
            } else if controllers.split(',').any(|c| c == "cpuacct") {
                // Without a cgroup namespace a container's v1 path is not under its mount,
                // whose root is then the container's own cgroup.
                candidates.push((format!("/sys/fs/cgroup/cpuacct{path}"), CgroupVersion::V1));
                candidates.push(("/sys/fs/cgroup/cpuacct".to_owned(), CgroupVersion::V1));
            }
        }
        candidates
            .into_iter()
            .find(|(dir, _)| self.holds_only_this_process(dir))
            .map_or(Signal::ProcessTime, |(dir, version)| Signal::OwnCgroup {
                dir: PathBuf::from(dir),
                version,
            })
    }

    fn holds_only_this_process(&self, dir: &str) -> bool {
        self.read(&format!("{dir}/cgroup.procs"))
            .is_some_and(|procs| {
                let mut pids = procs.split_whitespace();
                pids.next() == Some(self.pid.to_string().as_str()) && pids.next().is_none()
            })
    }

    fn sample(&self, signal: &Signal, at: Instant) -> Option<Sample> {
        Some(Sample {
            used_ns: self.used_ns(signal)?,
            at,
            limit_cores: self.limit_cores(signal),
        })
    }

    fn used_ns(&self, signal: &Signal) -> Option<u64> {
        match signal {
            Signal::OwnCgroup {
                dir,
                version: CgroupVersion::V2,
            } => {
                let stat = self.read(&format!("{}/cpu.stat", dir.display()))?;
                let usec: u64 = stat
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))?
                    .trim()
                    .parse()
                    .ok()?;
                Some(usec * 1000)
            }
            Signal::OwnCgroup {
                dir,
                version: CgroupVersion::V1,
            } => self
                .read(&format!("{}/cpuacct.usage", dir.display()))?
                .trim()
                .parse()
                .ok(),
            Signal::ProcessTime => {
                let stat = self.read("/proc/self/stat")?;
                // Fields after the command name (which may hold spaces) start after its ')'.
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                let utime: u64 = fields.get(11)?.parse().ok()?;
                let stime: u64 = fields.get(12)?.parse().ok()?;
                Some((utime + stime) * NS_PER_TICK)
            }
        }
    }

    /// The cores it may use: its own cgroup's quota where it has one (fractions count: half a
    /// core is a limit), never more than the cores it may run on.
    fn limit_cores(&self, signal: &Signal) -> f64 {
        let quota = match signal {
            Signal::OwnCgroup {
                dir,
                version: CgroupVersion::V2,
            } => self
                .read(&format!("{}/cpu.max", dir.display()))
                .and_then(|max| {
                    let mut parts = max.split_whitespace();
                    // "max" (no limit) does not parse.
                    let quota = parts.next()?.parse::<f64>().ok()?;
                    let period = parts.next()?.parse::<f64>().ok()?;
                    (period > 0.0).then_some(quota / period)
                }),
            Signal::OwnCgroup {
                dir,
                version: CgroupVersion::V1,
            } => {
                // The cpu hierarchy sits beside cpuacct (often the same, co-mounted).
                let cpu_dir = dir.display().to_string().replacen("/cpuacct", "/cpu", 1);
                let number = |file: &str| -> Option<f64> {
                    self.read(&format!("{cpu_dir}/{file}"))?.trim().parse().ok()
                };
                match (number("cpu.cfs_quota_us"), number("cpu.cfs_period_us")) {
                    (Some(quota), Some(period)) if quota > 0.0 && period > 0.0 => {
                        Some(quota / period)
                    }
                    _ => None,
                }
            }
            Signal::ProcessTime => None,
        };
        quota.map_or(self.cores, |quota| quota.min(self.cores))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake `/` with the given files.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new(files: &[(&str, &str)]) -> Self {
            let root = std::env::temp_dir().join(format!(
                "cpu-fixture-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            for (path, text) in files {
                let at = root.join(path.trim_start_matches('/'));
                std::fs::create_dir_all(at.parent().unwrap()).unwrap();
                std::fs::write(at, text).unwrap();
            }
            Self { root }
        }

        fn write(&self, path: &str, text: &str) {
            std::fs::write(self.root.join(path.trim_start_matches('/')), text).unwrap();
        }

        fn host(&self, cores: f64) -> Host {
            Host {
                root: self.root.clone(),
                pid: 4242,
                cores,
            }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// `/proc/self/stat` with this much user and system time, in ticks of 10 ms.
    fn stat(utime: u64, stime: u64) -> String {
        format!("4242 (url api) S 1 4242 4242 0 -1 4194560 100 0 0 0 {utime} {stime} 0 0 20 0 8 0")
    }

    #[test]
    fn on_the_hosts_root_cgroup_it_weighs_its_own_cpu_time_not_the_hosts() {
        // cgroup v1 with everything at the root, as on this CI machine.
        let host_usage = "1000000000000";
        let fixture = Fixture::new(&[
            ("/proc/self/cgroup", "2:cpuacct:/\n1:cpu:/\n0::/\n"),
            ("/sys/fs/cgroup/cpuacct/cgroup.procs", "1\n77\n4242\n"),
            ("/sys/fs/cgroup/cpuacct/cpuacct.usage", host_usage),
            ("/proc/self/stat", &stat(100, 0)),
        ]);
        let host = fixture.host(2.0);
        let signal = host.signal();
        assert_eq!(signal, Signal::ProcessTime);
        let start = Instant::now();
        let before = host.sample(&signal, start).unwrap();

        // A second later the host's other processes burned both cores; this one 0.1 s.
        fixture.write("/sys/fs/cgroup/cpuacct/cpuacct.usage", "1002000000000");
        fixture.write("/proc/self/stat", &stat(105, 5));
        let after = host
            .sample(&signal, start + Duration::from_secs(1))
            .unwrap();

        assert!((after.per_mille_since(&before) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn in_a_container_it_weighs_its_cgroup_against_the_quota() {
        // cgroup v2 in its own namespace: the root is the container's, and holds this process.
        let fixture = Fixture::new(&[
            ("/proc/self/cgroup", "0::/\n"),
            ("/sys/fs/cgroup/cgroup.procs", "4242\n"),
            ("/sys/fs/cgroup/cpu.max", "50000 100000\n"),
            (
                "/sys/fs/cgroup/cpu.stat",
                "usage_usec 1000000\nuser_usec 900000\n",
            ),
        ]);
        let host = fixture.host(2.0);
        let signal = host.signal();
        assert!(matches!(
            signal,
            Signal::OwnCgroup {
                version: CgroupVersion::V2,
                ..
            }
        ));
        assert!((host.limit_cores(&signal) - 0.5).abs() < 1e-9);
        let start = Instant::now();
        let before = host.sample(&signal, start).unwrap();

        // Half a core for a second: all of a half-core quota.
        fixture.write("/sys/fs/cgroup/cpu.stat", "usage_usec 1500000\n");
        let after = host
            .sample(&signal, start + Duration::from_secs(1))
            .unwrap();

        assert!((after.per_mille_since(&before) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn a_cgroup_shared_with_other_processes_is_not_its_own() {
        // A login session's scope, where the database and the load generator run too.
        let fixture = Fixture::new(&[
            ("/proc/self/cgroup", "0::/user.slice/session-3.scope\n"),
            (
                "/sys/fs/cgroup/user.slice/session-3.scope/cgroup.procs",
                "4242\n5000\n",
            ),
            (
                "/sys/fs/cgroup/user.slice/session-3.scope/cpu.stat",
                "usage_usec 1\n",
            ),
        ]);
        assert_eq!(fixture.host(2.0).signal(), Signal::ProcessTime);

        // A systemd service of its own is.
        let fixture = Fixture::new(&[
            ("/proc/self/cgroup", "0::/system.slice/url-api.service\n"),
            (
                "/sys/fs/cgroup/system.slice/url-api.service/cgroup.procs",
                "4242\n",
            ),
        ]);
        assert_eq!(
            fixture.host(2.0).signal(),
            Signal::OwnCgroup {
                dir: PathBuf::from("/sys/fs/cgroup/system.slice/url-api.service"),
                version: CgroupVersion::V2,
            }
        );
    }

    #[test]
    fn a_v1_container_without_a_namespace_reads_its_mount() {
        let fixture = Fixture::new(&[
            ("/proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n"),
            ("/sys/fs/cgroup/cpuacct/cgroup.procs", "4242\n"),
            ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "5"),
            ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "150000"),
            ("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000"),
        ]);
        let host = fixture.host(4.0);
        let signal = host.signal();
        assert_eq!(
            signal,
            Signal::OwnCgroup {
                dir: PathBuf::from("/sys/fs/cgroup/cpuacct"),
                version: CgroupVersion::V1,
            }
        );
        assert!((host.limit_cores(&signal) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn reads_this_machine() {
        let host = Host::this_process();
        let signal = host.signal();
        let sample = host
            .sample(&signal, Instant::now())
            .expect("/proc on Linux");
        assert!(sample.limit_cores > 0.0, "{signal:?}");
    }
}
