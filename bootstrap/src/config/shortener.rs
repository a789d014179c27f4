use std::path::PathBuf;
use std::time::Duration;

use adapter_queue::QueueSettings;
use serde::Deserialize;

use super::link_api::{
    AuthFile, CacheFile, HttpFile, LinkApiConfig, LinkApiFile, RateLimitsFile, UrlPolicyFile,
};
use super::sections::{CommonConfig, CommonFile, GeoIpFile, GuardsFile};
use super::{ConfigError, Env, Setting, millis, parse_file, positive, read_file};

const BUILT_IN: &str = include_str!("../../etc/shortener.yaml");

/// The data file's name inside `DATA_DIR`.
pub const DATA_FILE: &str = "shortener.db";

/// Everything the embedded shortener needs, validated.
#[derive(Debug, Clone)]
pub struct ShortenerConfig {
    /// The HTTP link API, as url-api has it.
    pub api: LinkApiConfig,
    pub storage: StorageConfig,
    pub clicks: QueueSettings,
    /// On shutdown, how long storing the queued clicks may take.
    pub flush_timeout: Duration,
    pub geoip_database: Option<PathBuf>,
    /// Dev server, logs and traces.
    pub common: CommonConfig,
}

/// Where the data file is and how it is shared.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The directory of the data file (`DATA_DIR`), made at start when missing.
    pub data_dir: PathBuf,
    pub readers: u32,
    /// How long a statement may wait for the writer before it fails (and counts against the
    /// store's breaker).
    pub busy_timeout: Duration,
}

impl StorageConfig {
    pub fn data_file(&self) -> PathBuf {
        self.data_dir.join(DATA_FILE)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    http: HttpFile,
    guards: GuardsFile,
    cache: CacheFile,
    url_policy: UrlPolicyFile,
    auth: AuthFile,
    rate_limits: RateLimitsFile,
    storage: StorageFile,
    clicks: ClicksFile,
    geoip: GeoIpFile,
    common: CommonFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageFile {
    data_dir: String,
    readers: u32,
    busy_timeout_ms: u64,
}

impl StorageFile {
    fn load(self, env: &impl Env) -> Result<StorageConfig, ConfigError> {
        Ok(StorageConfig {
            data_dir: storage_dir(env, self.data_dir)?,
            readers: u32::try_from(positive("storage.readers", u64::from(self.readers))?)
                .unwrap_or(u32::MAX),
            busy_timeout: millis("storage.busy_timeout_ms", self.busy_timeout_ms)?,
        })
    }
}

/// `storage.data_dir` (or `DATA_DIR`): not empty, and not a file.
fn storage_dir(env: &impl Env, file_value: String) -> Result<PathBuf, ConfigError> {
    let setting = Setting::new(env, "DATA_DIR", "storage.data_dir", file_value);
    if setting.value.is_empty() {
        return Err(setting.error("must name a directory"));
    }
    let dir = PathBuf::from(&setting.value);
    if dir.exists() && !dir.is_dir() {
        return Err(setting.error(format!("'{}' is not a directory", setting.value)));
    }
    Ok(dir)
}

/// At most this many clicks queued: a million is 100-odd MiB of memory, and as many clicks lost
/// to a crash.
const MAX_QUEUE: u64 = 1_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClicksFile {
    queue_capacity: u64,
    batch_size: u64,
    batch_interval_ms: u64,
    flush_timeout_ms: u64,
}

impl ClicksFile {
    fn load(&self) -> Result<QueueSettings, ConfigError> {
        let capacity = positive("clicks.queue_capacity", self.queue_capacity)?;
        if capacity > MAX_QUEUE {
            return Err(ConfigError::new(
                "clicks.queue_capacity",
                format!("must be at most {MAX_QUEUE}"),
            ));
        }
        let as_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(QueueSettings {
            capacity: as_usize(capacity),
            batch_size: as_usize(positive("clicks.batch_size", self.batch_size)?),
            batch_interval: millis("clicks.batch_interval_ms", self.batch_interval_ms)?,
        })
    }
}

impl ShortenerConfig {
    /// Reads `--config` (or the built-in defaults) and applies the environment.
    ///
    /// # Errors
    /// The first setting that is missing, malformed or out of range.
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: &impl Env,
    ) -> Result<Self, ConfigError> {
        let (name, text) = read_file(args, BUILT_IN)?;
        Self::parse(&name, &text, env)
    }

    /// The settings in `text` (YAML; `name` says where it came from, for errors), then the
    /// environment.
    ///
    /// # Errors
    /// The first setting that is missing, malformed or out of range.
    pub fn parse(name: &str, text: &str, env: &impl Env) -> Result<Self, ConfigError> {
        let file: File = parse_file(name, text)?;
        let api = LinkApiFile {
            http: file.http,
            guards: file.guards,
            cache: file.cache,
            url_policy: file.url_policy,
            auth: file.auth,
            rate_limits: file.rate_limits,
        };
        Ok(Self {
            api: api.load(env)?,
            storage: file.storage.load(env)?,
            clicks: file.clicks.load()?,
            flush_timeout: millis("clicks.flush_timeout_ms", file.clicks.flush_timeout_ms)?,
            geoip_database: file.geoip.load(env)?,
            common: file.common.load(env)?,
        })
    }

    /// Only where the data file is, for `shortener admin`, which serves nothing.
    ///
    /// # Errors
    /// When `DATA_DIR` (or the built-in default) is unusable.
    pub fn storage_only(env: &impl Env) -> Result<StorageConfig, ConfigError> {
        let file: File = parse_file("built-in shortener.yaml", BUILT_IN)?;
        file.storage.load(env)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rstest::rstest;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Env {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| vars.get(name).cloned()
    }

    #[test]
    fn the_built_in_defaults_serve_on_8080_from_data() {
        let config = ShortenerConfig::load([], &env(&[])).unwrap();
        assert_eq!(config.api.http_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.api.base_url, "http://localhost:8080");
        assert_eq!(
            config.storage.data_file(),
            PathBuf::from("./data/shortener.db")
        );
        assert_eq!(config.clicks.capacity, 10_000);
        assert_eq!(config.geoip_database, None);
        assert!(config.api.rate_limits.is_some());
    }

    #[test]
    fn the_data_dir_comes_from_the_environment() {
        let vars = env(&[("DATA_DIR", "/var/lib/shortener")]);
        let storage = ShortenerConfig::storage_only(&vars).unwrap();
        assert_eq!(
            storage.data_file(),
            PathBuf::from("/var/lib/shortener/shortener.db")
        );
    }

    #[rstest]
    #[case("DATA_DIR", "", "DATA_DIR")]
    #[case("DATA_DIR", "/etc/hostname", "DATA_DIR")]
    #[case("HTTP_ADDR", "8080", "HTTP_ADDR")]
    #[case("HTTP_ENGINE", "", "HTTP_ENGINE")]
    #[case("GEOIP_DATABASE", "/nowhere.mmdb", "GEOIP_DATABASE")]
    fn a_bad_variable_is_named(#[case] var: &str, #[case] value: &str, #[case] named: &str) {
        let error = ShortenerConfig::load([], &env(&[(var, value)])).unwrap_err();
        assert!(error.to_string().contains(named), "{error}");
    }

    #[rstest]
    #[case("queue_capacity: 10000", "queue_capacity: 0", "clicks.queue_capacity")]
    #[case(
        "queue_capacity: 10000",
        "queue_capacity: 1000001",
        "clicks.queue_capacity"
    )]
    #[case("batch_size: 500", "batch_size: 0", "clicks.batch_size")]
    #[case("readers: 4", "readers: 0", "storage.readers")]
    fn a_bad_setting_in_the_file_is_named(
        #[case] shipped: &str,
        #[case] changed: &str,
        #[case] named: &str,
    ) {
        assert!(BUILT_IN.contains(shipped));
        let text = BUILT_IN.replace(shipped, changed);
        let error = ShortenerConfig::parse("test.yaml", &text, &env(&[])).unwrap_err();
        assert!(error.to_string().contains(named), "{error}");
    }
}
