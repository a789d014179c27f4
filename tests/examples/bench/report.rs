//! The table: printed, and saved under `results/` as JSON and as markdown.

use std::fmt::Write as _;

use serde::Serialize;

/// One scenario's figures, and how they compare with the limits measured in the same run.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) rate: Option<f64>,
    pub(crate) unit: &'static str,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
    pub(crate) p999_ms: Option<f64>,
    /// "x / y" ratios to the same run's limits, with their names.
    pub(crate) ratios: Vec<(String, f64)>,
    pub(crate) note: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// Whether each service ran in a cgroup of its own (its shedder weighing its own CPU).
    pub(crate) contained: bool,
    pub(crate) mode: &'static str,
    pub(crate) machine: String,
    pub(crate) started_at: String,
    pub(crate) rows: Vec<Row>,
    /// Peak resident memory (VmHWM) per process under the load above, in MiB.
    pub(crate) peak_rss_mib: Vec<(String, f64)>,
}

impl Report {
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Benchmark ({} mode), {}, started {}; each service in {}\n",
            self.mode,
            self.machine,
            self.started_at,
            if self.contained {
                "a cgroup of its own"
            } else {
                "the machine's cgroup (its shedder sees every process's CPU)"
            }
        );
        out.push_str("| scenario | rate | p50 ms | p99 ms | p99.9 ms | ratios | notes |\n");
        out.push_str("|---|---:|---:|---:|---:|---|---|\n");
        let ms = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.2}"));
        for row in &self.rows {
            let rate = row
                .rate
                .map_or_else(String::new, |r| format!("{r:.0} {}", row.unit));
            let ratios = row
                .ratios
                .iter()
                .map(|(name, r)| format!("{r:.2} of {name}"))
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                out,
                "| {} | {rate} | {} | {} | {} | {ratios} | {} |",
                row.scenario,
                ms(row.p50_ms),
                ms(row.p99_ms),
                ms(row.p999_ms),
                row.note
            );
        }
        out.push_str("\n| process | peak RSS |\n|---|---:|\n");
        for (process, mib) in &self.peak_rss_mib {
            let _ = writeln!(out, "| {process} | {mib:.1} MiB |");
        }
        out
    }

    /// Writes `results/bench-<mode>-<time>.{json,md}` and returns the markdown file's path.
    pub(crate) fn save(&self, dir: &std::path::Path) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).expect("create the results folder");
        let stem = format!(
            "bench-{}-{}",
            self.mode,
            self.started_at.replace([':', '-'], "")
        );
        let json = serde_json::to_string_pretty(self).expect("the report as JSON");
        std::fs::write(dir.join(format!("{stem}.json")), json).expect("write the JSON");
        let md = dir.join(format!("{stem}.md"));
        std::fs::write(&md, self.markdown()).expect("write the markdown");
        md
    }
}

/// What this machine is, for the table's heading.
pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpus} CPUs ({model}), {mem_gib:.0} GiB")
}
