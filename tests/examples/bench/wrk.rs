//! HTTP load from wrk (Debian's package), a separate process on loopback: one thread and 64
//! connections, as the issue's reference measurement. A Lua script picks each request and
//! prints the figures as one JSON line at the end.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// What wrk asks for.
pub(crate) enum Load {
    /// `GET /{prefix}{n:07}` for n uniformly random in 1..=count.
    Redirects { prefix: char, count: u64 },
    /// `HEAD` of the same: the redirect's answer without a click (link previewers' requests).
    Probes { prefix: char, count: u64 },
    /// `POST /api/v1/urls`, each with a URL of its own, with this API key.
    Shortens { key: String },
}

/// Throughput and latency of one run.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Figures {
    /// Answers that were 2xx or 3xx, per second: a refusal is not throughput.
    pub(crate) requests_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    /// Socket errors and answers that were neither 2xx nor 3xx.
    pub(crate) errors: u64,
}

const SCRIPT: &str = r#"
local mode, n, prefix = os.getenv("BENCH_MODE"), tonumber(os.getenv("BENCH_N")), os.getenv("BENCH_PREFIX")
local counter = 0
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY") }
request = function()
  if mode == "shorten" then
    counter = counter + 1
    return wrk.format("POST", "/api/v1/urls", headers,
      '{"original_url":"https://example.com/shortened/' .. counter .. '"}')
  end
  local method = mode == "probe" and "HEAD" or "GET"
  return wrk.format(method, string.format("/%s%07d", prefix, math.random(1, n)))
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests - e.status, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"#;

pub(crate) fn run(addr: &str, load: &Load, duration: Duration) -> Figures {
    let script = std::env::temp_dir().join(format!("bench-{}.lua", std::process::id()));
    std::fs::write(&script, SCRIPT).expect("write the wrk script");
    let (mode, n, prefix, key) = match load {
        Load::Redirects { prefix, count } => ("redirect", *count, prefix.to_string(), ""),
        Load::Probes { prefix, count } => ("probe", *count, prefix.to_string(), ""),
        Load::Shortens { key } => ("shorten", 0, String::new(), key.as_str()),
    };
    let output = Command::new("wrk")
        .args(["-t1", "-c64", "--timeout", "5s"])
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}"))
        .env("BENCH_MODE", mode)
        .env("BENCH_N", n.to_string())
        .env("BENCH_PREFIX", prefix)
        .env("BENCH_KEY", key)
        .output()
        .expect("run wrk (Debian's wrk package; scripts/bench.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {stdout}");
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no figures from wrk: {stdout}"));
    let v: Value = serde_json::from_str(line).expect("wrk's JSON line");
    let us = |key: &str| v[key].as_f64().unwrap_or(0.0);
    Figures {
        requests_per_s: us("requests") / (us("duration_us") / 1e6),
        p50_ms: us("p50_us") / 1e3,
        p99_ms: us("p99_us") / 1e3,
        p999_ms: us("p999_us") / 1e3,
        errors: v["errors"].as_u64().unwrap_or(0),
    }
}
