//! PostgreSQL's own rate for the statement a scenario depends on, measured by pgbench (from
//! Debian's postgresql package) on the same server and table, in the same run.

use std::process::Command;
use std::time::Duration;

/// Transactions per second of `script` with `clients` connections (url-api's pool size).
pub(crate) fn tps(database_url: &str, script: &str, clients: u32, duration: Duration) -> f64 {
    let file = std::env::temp_dir().join(format!("bench-{}.sql", std::process::id()));
    std::fs::write(&file, script).expect("write the pgbench script");
    let url = url::Url::parse(database_url).expect("a database URL");
    let output = Command::new(pgbench())
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg(format!("-c{clients}"))
        .arg(format!("-T{}", duration.as_secs().max(1)))
        .arg("-f")
        .arg(&file)
        .args(["-h", url.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &url.port().unwrap_or(5432).to_string()])
        .args(["-U", url.username()])
        .arg(url.path().trim_start_matches('/'))
        .env("PGPASSWORD", url.password().unwrap_or(""))
        .output()
        .expect("run pgbench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench's output: {stdout}"))
}

fn pgbench() -> String {
    // Debian keeps it beside the server, not on PATH.
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| {
            versions
                .filter_map(Result::ok)
                .map(|v| v.path().join("bin/pgbench"))
                .filter(|p| p.is_file())
                .max()
        })
        .map_or_else(|| "pgbench".to_owned(), |p| p.display().to_string())
}
