//! The service binaries run as processes, as an operator runs them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Where a service's log lines go once it is ready.
#[derive(Debug, Clone)]
pub enum Log {
    Stderr,
    /// Read and dropped, so the process never blocks on a full pipe.
    Discard,
    /// Each line sent here, those before it was ready too, for a test that reads them.
    Lines(std::sync::mpsc::Sender<String>),
}

/// One running binary; killed when dropped, so a failing test leaves nothing behind.
pub struct Service {
    child: Child,
    /// The `key=value` fields of its "listening" (or "consuming") log line: `addr`, `dev_addr`.
    fields: HashMap<String, String>,
}

impl Service {
    /// Starts `binary` with `--config config` and the variables, and waits for its "listening"
    /// (or "consuming") log line. Its later log lines go to this process's stderr.
    pub fn start(binary: &str, config: &str, vars: &[(&str, String)]) -> Self {
        Self::start_with(binary, config, vars, Log::Stderr)
    }

    /// As [`Service::start`], with the later log lines sent where `log` says. `RUST_LOG` is
    /// `info` unless `vars` sets it.
    pub fn start_with(binary: &str, config: &str, vars: &[(&str, String)], log: Log) -> Self {
        let path = binary_path(binary);
        let mut child = Command::new(&path)
            .args(["--config", config])
            .env("RUST_LOG", "info")
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut ready = false;
        let mut fields = HashMap::new();
        for line in lines.by_ref() {
            let line = line.expect("log line");
            if let Log::Lines(sent) = &log {
                let _ = sent.send(line.clone());
            }
            // Logs are JSON when stderr is not a terminal: {"fields": {"message": ..., ...}}.
            if line.contains("listening") || line.contains("consuming") {
                ready = true;
                let parsed: serde_json::Value =
                    serde_json::from_str(&line).expect("a JSON log line");
                fields = parsed["fields"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect();
                break;
            }
        }
        assert!(ready, "{binary} exited before it was ready");
        // Keep draining the log so the process never blocks on a full pipe.
        let name = binary.to_owned();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                match &log {
                    Log::Stderr => eprintln!("{name}: {line}"),
                    Log::Discard => {}
                    Log::Lines(sent) => {
                        let _ = sent.send(line);
                    }
                }
            }
        });
        Self { child, fields }
    }

    /// Where it serves its traffic.
    pub fn addr(&self) -> &str {
        self.fields.get("addr").map_or("", String::as_str)
    }

    /// Where it serves `/metrics` and `/healthz`.
    pub fn dev_addr(&self) -> &str {
        self.fields.get("dev_addr").map_or("", String::as_str)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Threads the process has now (from /proc).
    pub fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("a Threads: line")
    }

    /// The most memory the process has held resident so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.pid())
    }

    /// SIGTERM, then waits: the process shuts down as an operator's stop makes it.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        self.child.wait().expect("wait");
    }

    /// SIGKILL: no shutdown path runs, like a crash or an OOM kill.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary built beside this test: `cargo test --workspace` builds them for bootstrap's own
/// tests; `cargo build -p bootstrap` does when this crate is tested alone.
pub fn binary_path(name: &str) -> PathBuf {
    // target/debug/deps/integration-… → target/debug/<name>
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is not built: run cargo build -p bootstrap",
        path.display()
    );
    path
}

/// The most memory process `pid` has held resident so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|n| n.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM: line")
}

/// `shortener admin ARGS` on the data directory `dir`, as an operator runs it.
pub fn shortener_admin(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(binary_path("shortener"))
        .arg("admin")
        .args(args)
        .env("DATA_DIR", dir)
        .output()
        .expect("run shortener admin")
}

/// The key a successful `keys create` printed alone on its last line.
pub fn created_key(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "keys create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.lines().last().expect("the key").to_owned()
}
