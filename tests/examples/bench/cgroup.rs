//! Each service in a cgroup of its own, as a container or a systemd unit would have it, so that
//! its load shedder weighs its own CPU, not the load generator's or PostgreSQL's on the same
//! cores. Best effort (it needs root and a writable cgroup file system); where it can't, the
//! table says so.

use std::path::PathBuf;

/// The cgroups made for this run, removed when it ends (after the services they hold).
#[derive(Default)]
pub(crate) struct Cgroups(Vec<PathBuf>);

impl Cgroups {
    /// Moves process `pid` into a new cgroup named after `name`; false where that can't be done.
    pub(crate) fn adopt(&mut self, name: &str, pid: u32) -> bool {
        // cgroup v1's cpuacct hierarchy (what the shedder reads there), or v2's single one.
        let parents = ["/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup"];
        let leaf = format!("shortener-bench-{name}-{pid}");
        for parent in parents {
            let dir = PathBuf::from(parent).join(&leaf);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            // A real cgroup directory comes with its interface files; a plain one (the tmpfs
            // that holds v1's mounts) does not, and is no cgroup.
            let procs = dir.join("cgroup.procs");
            if procs.is_file() && std::fs::write(&procs, pid.to_string()).is_ok() {
                self.0.push(dir);
                return member_of(pid, &leaf);
            }
            let _ = std::fs::remove_dir(&dir);
        }
        false
    }
}

/// Whether the kernel now lists `leaf` among process `pid`'s cgroups.
fn member_of(pid: u32, leaf: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|text| text.contains(leaf))
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for dir in &self.0 {
            // Empty once its process has exited; a cgroup directory is removed with rmdir.
            let _ = std::fs::remove_dir(dir);
        }
    }
}
