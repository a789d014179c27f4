use std::net::SocketAddr;
use std::time::Duration;

use adapter_cache::CacheSettings;
use adapter_http::ClientTimeouts;
use adapter_ratelimit::LimitSettings;
use application::ports::Quota;
use domain::{Blocklist, UrlPolicy};
use serde::Deserialize;

use super::sections::{
    CommonConfig, CommonFile, DatabaseConfig, DatabaseFile, GuardsConfig, GuardsFile, KafkaConfig,
};
use super::{ConfigError, Env, Setting, millis, parse_file, positive, read_file, rpc_token};

const BUILT_IN: &str = include_str!("../../etc/url-api.yaml");

/// Everything url-api needs, validated.
#[derive(Debug, Clone)]
pub struct UrlApiConfig {
    pub http_addr: SocketAddr,
    pub base_url: String,
    pub max_body_bytes: usize,
    pub drain_timeout: Duration,
    /// How long a client may keep a connection waiting (see the README's "Serving behind a
    /// proxy").
    pub client_timeouts: ClientTimeouts,
    pub trust_proxy_headers: bool,
    /// Requests in progress at once; more get 503.
    pub max_conns: usize,
    pub guards: GuardsConfig,
    pub database: DatabaseConfig,
    pub kafka: KafkaConfig,
    /// The in-process cache of links that redirects read.
    pub cache: CacheSettings,
    /// On shutdown, how long queued click events may take to reach Kafka.
    pub flush_timeout: Duration,
    pub analytics_rpc_url: String,
    /// Sent to analytics-rpc with each call (`ANALYTICS_RPC_TOKEN`).
    pub analytics_rpc_token: Option<adapter_grpc::RpcToken>,
    /// How long `GET /api/v1/links/{code}` waits for the click count.
    pub analytics_timeout: Duration,
    /// Which targets a link may have (its own host is the base URL's).
    pub url_policy: UrlPolicy,
    pub auth: AuthConfig,
    /// Each client's budgets; `None` when `rate_limits.enabled` is off.
    pub rate_limits: Option<LimitSettings>,
    /// Dev server, logs and traces.
    pub common: CommonConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    http: HttpFile,
    guards: GuardsFile,
    database: DatabaseFile,
    kafka: UrlApiKafkaFile,
    cache: CacheFile,
    analytics: AnalyticsFile,
    url_policy: UrlPolicyFile,
    auth: AuthFile,
    rate_limits: RateLimitsFile,
    common: CommonFile,
}

/// Larger than any blocklist (a million domains), small enough that reading one never costs
/// the process its memory.
const MAX_BLOCKLIST_BYTES: u64 = 64 * 1024 * 1024;

fn read_capped(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    // A pipe or a device could block the start, or never end: only a plain file is read, and
    // one that says it is empty is (procfs files say so, and some of them block when read).
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if metadata.len() == 0 {
        return Ok(String::new());
    }
    let too_large = || {
        std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_BLOCKLIST_BYTES / 1024 / 1024
        ))
    };
    // Refused by its size before any of it is read; the cap on the read holds for a file that
    // grows meanwhile.
    if metadata.len() > MAX_BLOCKLIST_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_BLOCKLIST_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_BLOCKLIST_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitsFile {
    enabled: bool,
    shorten_per_minute: u64,
    manage_per_minute: u64,
    redirect_per_minute: u64,
    max_clients: u64,
}

impl RateLimitsFile {
    fn load(self, env: &impl Env) -> Result<Option<LimitSettings>, ConfigError> {
        let enabled = Setting::new(
            env,
            "RATE_LIMITS_ENABLED",
            "rate_limits.enabled",
            self.enabled.to_string(),
        )
        .boolean()?;
        let per_minute = |key: &str, value: u64| -> Result<Quota, ConfigError> {
            let limit = u32::try_from(positive(key, value)?)
                .map_err(|_| ConfigError::new(key, "is too large"))?;
            Ok(Quota {
                limit,
                window: Duration::from_secs(60),
            })
        };
        let settings = LimitSettings {
            shorten: per_minute("rate_limits.shorten_per_minute", self.shorten_per_minute)?,
            manage: per_minute("rate_limits.manage_per_minute", self.manage_per_minute)?,
            redirect: per_minute("rate_limits.redirect_per_minute", self.redirect_per_minute)?,
            max_spenders: usize::try_from(positive("rate_limits.max_clients", self.max_clients)?)
                .unwrap_or(usize::MAX),
        };
        Ok(enabled.then_some(settings))
    }
}

/// Who may do what without a key, and how long a valid key is remembered.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    /// Whether clients without a key may shorten.
    pub anonymous_shorten: bool,
    /// How long a valid key is remembered: a revoked key stops working within this.
    pub key_cache_ttl: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    anonymous_shorten: bool,
    key_cache_ttl_ms: u64,
}

impl AuthFile {
    fn load(self, env: &impl Env) -> Result<AuthConfig, ConfigError> {
        Ok(AuthConfig {
            anonymous_shorten: Setting::new(
                env,
                "AUTH_ANONYMOUS_SHORTEN",
                "auth.anonymous_shorten",
                self.anonymous_shorten.to_string(),
            )
            .boolean()?,
            key_cache_ttl: millis("auth.key_cache_ttl_ms", self.key_cache_ttl_ms)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlPolicyFile {
    allow_private_targets: bool,
    blocklist_file: Option<String>,
}

impl UrlPolicyFile {
    /// The policy, with the blocklist file read now: an unreadable file or a line that is no
    /// domain stops the start.
    fn load(self, base_url: &str) -> Result<UrlPolicy, ConfigError> {
        const SETTING: &str = "url_policy.blocklist_file";
        let blocklist = match self.blocklist_file.filter(|path| !path.is_empty()) {
            None => Blocklist::default(),
            Some(path) => {
                let text = read_capped(&path)
                    .map_err(|e| ConfigError::new(SETTING, format!("cannot read {path}: {e}")))?;
                Blocklist::parse(&text)
                    .map_err(|e| ConfigError::new(SETTING, format!("{path}: {e}")))?
            }
        };
        Ok(UrlPolicy::new(
            base_url,
            blocklist,
            self.allow_private_targets,
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlApiKafkaFile {
    brokers: String,
    topic: String,
    flush_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    max_bytes: u64,
    ttl_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyticsFile {
    rpc_url: String,
    timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    addr: String,
    base_url: String,
    max_body_bytes: u64,
    drain_timeout_ms: u64,
    header_timeout_ms: u64,
    idle_timeout_ms: u64,
    trust_proxy_headers: bool,
    max_conns: u64,
}

impl UrlApiConfig {
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
        let base_url =
            Setting::new(env, "BASE_URL", "http.base_url", file.http.base_url).http_url()?;
        let max_body_bytes = positive("http.max_body_bytes", file.http.max_body_bytes)?;
        Ok(Self {
            http_addr: Setting::new(env, "HTTP_ADDR", "http.addr", file.http.addr).socket_addr()?,
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
            max_body_bytes: usize::try_from(max_body_bytes)
                .map_err(|_| ConfigError::new("http.max_body_bytes", "is too large"))?,
            drain_timeout: millis("http.drain_timeout_ms", file.http.drain_timeout_ms)?,
            client_timeouts: ClientTimeouts {
                header: millis("http.header_timeout_ms", file.http.header_timeout_ms)?,
                idle: millis("http.idle_timeout_ms", file.http.idle_timeout_ms)?,
            },
            trust_proxy_headers: file.http.trust_proxy_headers,
            max_conns: usize::try_from(positive("http.max_conns", file.http.max_conns)?)
                .unwrap_or(usize::MAX),
            guards: file.guards.load()?,
            database: file.database.load(env)?,
            kafka: KafkaConfig::load(env, file.kafka.brokers, file.kafka.topic)?,
            cache: CacheSettings {
                max_bytes: positive("cache.max_bytes", file.cache.max_bytes)?,
                ttl: millis("cache.ttl_ms", file.cache.ttl_ms)?,
            },
            flush_timeout: millis("kafka.flush_timeout_ms", file.kafka.flush_timeout_ms)?,
            analytics_rpc_url: Setting::new(
                env,
                "ANALYTICS_RPC_URL",
                "analytics.rpc_url",
                file.analytics.rpc_url,
            )
            .http_url()?
            .to_string(),
            analytics_rpc_token: rpc_token(env)?,
            analytics_timeout: millis("analytics.timeout_ms", file.analytics.timeout_ms)?,
            url_policy: file.url_policy.load(base_url.as_str())?,
            auth: file.auth.load(env)?,
            rate_limits: file.rate_limits.load(env)?,
            common: file.common.load(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

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
    fn the_built_in_defaults_match_the_design() {
        let config = UrlApiConfig::load([], &env(&[])).unwrap();
        assert_eq!(config.http_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.base_url, "http://localhost:8080");
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(
            config.database.pool.url,
            "postgres://postgres:postgres@localhost:5432/shortener"
        );
        assert_eq!(config.common.log_filter, "info");
        assert!(!config.auth.anonymous_shorten);
        assert_eq!(config.auth.key_cache_ttl, Duration::from_secs(10));
        let limits = config.rate_limits.unwrap();
        assert_eq!(limits.shorten.limit, 60);
        assert_eq!(limits.redirect.window, Duration::from_secs(60));
    }

    #[test]
    fn rate_limits_turn_off_from_the_environment() {
        let config = UrlApiConfig::load([], &env(&[("RATE_LIMITS_ENABLED", "false")])).unwrap();
        assert!(config.rate_limits.is_none());
    }

    #[test]
    fn environment_variables_win() {
        let config = UrlApiConfig::load(
            [],
            &env(&[
                ("HTTP_ADDR", "127.0.0.1:0"),
                ("BASE_URL", "https://sho.rt/"),
                ("DATABASE_URL", "postgres://u:p@db:5432/x"),
                ("RUST_LOG", "debug,sqlx=warn"),
                ("AUTH_ANONYMOUS_SHORTEN", "true"),
            ]),
        )
        .unwrap();
        assert!(config.auth.anonymous_shorten);
        assert_eq!(config.http_addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.base_url, "https://sho.rt");
        assert_eq!(config.database.pool.url, "postgres://u:p@db:5432/x");
        assert_eq!(config.common.log_filter, "debug,sqlx=warn");
    }

    #[rstest]
    #[case("HTTP_ADDR", "localhost", "HTTP_ADDR")]
    #[case("HTTP_ADDR", "0.0.0.0:99999", "HTTP_ADDR")]
    #[case("BASE_URL", "sho.rt", "BASE_URL")]
    #[case("BASE_URL", "ftp://sho.rt", "BASE_URL")]
    #[case("DATABASE_URL", "mysql://db/x", "DATABASE_URL")]
    #[case("DATABASE_URL", "not a url", "DATABASE_URL")]
    #[case("RUST_LOG", "info,[", "RUST_LOG")]
    #[case("AUTH_ANONYMOUS_SHORTEN", "yes", "AUTH_ANONYMOUS_SHORTEN")]
    #[case("ANALYTICS_RPC_TOKEN", "two words", "ANALYTICS_RPC_TOKEN")]
    #[case("RATE_LIMITS_ENABLED", "off", "RATE_LIMITS_ENABLED")]
    fn a_bad_variable_is_named(#[case] var: &str, #[case] value: &str, #[case] named: &str) {
        let error = UrlApiConfig::load([], &env(&[(var, value)])).unwrap_err();
        assert_eq!(error.setting, named);
    }

    #[test]
    fn a_database_error_never_shows_the_password() {
        let error =
            UrlApiConfig::load([], &env(&[("DATABASE_URL", "mysql://u:secret@db/x")])).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[rstest]
    // A URL where a section belongs: YAML's error quotes it (found by the config fuzzer).
    #[case(&BUILT_IN.replace(
        "database:\n  url: postgres://postgres:postgres@localhost:5432/shortener",
        "database: postgres://u:averylongsecret1@db/x\n  url: x",
    ))]
    #[case("http: \"postgres://u:averylongsecret1@db/x\\n\"\n")]
    fn a_file_error_is_one_line_and_never_shows_a_password(#[case] yaml: &str) {
        let error = UrlApiConfig::parse("url-api.yaml", yaml, &env(&[])).unwrap_err();
        let line = error.to_string();
        assert!(!line.contains("averylongsecret1"), "{line}");
        assert!(line.contains("postgres://u:***@db/x"), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let error =
            UrlApiConfig::load(["--config".into(), "/nope.yaml".into()], &env(&[])).unwrap_err();
        assert_eq!(error.setting, "--config");
        assert!(error.problem.contains("/nope.yaml"));
    }

    #[rstest]
    #[case("http:\n  addr: [\n", "line")]
    #[case(&BUILT_IN.replace("max_connections: 16", "max_connections: lots"), "max_connections")]
    #[case(&BUILT_IN.replace("log: info", "log: info\nextra: 1"), "unknown field `extra`")]
    #[case(&BUILT_IN.replace("max_connections: 16", "max_connections: 0"), "database.max_connections")]
    #[case(&BUILT_IN.replace("shorten_per_minute: 60", "shorten_per_minute: 0"), "rate_limits.shorten_per_minute")]
    fn a_bad_file_is_named(#[case] yaml: &str, #[case] mentioned: &str) {
        let mut file = tempfile();
        file.1.write_all(yaml.as_bytes()).unwrap();
        let error = UrlApiConfig::load(["--config".into(), file.0.clone()], &env(&[])).unwrap_err();
        assert!(error.to_string().contains(mentioned), "{error}");
        std::fs::remove_file(&file.0).unwrap();
    }

    fn tempfile() -> (String, std::fs::File) {
        let path = std::env::temp_dir().join(format!(
            "url-api-{}-{:?}.yaml",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        (path.to_string_lossy().into_owned(), file)
    }

    fn with_blocklist(text: &str) -> Result<UrlApiConfig, ConfigError> {
        let mut list = tempfile();
        list.1.write_all(text.as_bytes()).unwrap();
        let yaml = BUILT_IN.replace("blocklist_file:", &format!("blocklist_file: {}", list.0));
        let config = UrlApiConfig::parse(
            "url-api.yaml",
            &yaml,
            &env(&[("BASE_URL", "https://sho.rt")]),
        );
        std::fs::remove_file(&list.0).unwrap();
        config
    }

    #[test]
    fn the_url_policy_refuses_the_base_urls_host_and_the_blocklist() {
        let config = with_blocklist("# phishing\nevil.example\n").unwrap();
        let refused = |url: &str| {
            config
                .url_policy
                .check(&domain::LongUrl::parse(url).unwrap())
        };
        assert!(refused("https://www.evil.example/").is_err());
        assert!(refused("https://sho.rt/abcDEF12").is_err());
        assert!(refused("http://127.0.0.1/").is_err());
        assert_eq!(refused("https://example.com/"), Ok(()));
    }

    #[test]
    fn a_bad_blocklist_line_is_named() {
        let error = with_blocklist("ok.example\n10.0.0.1\n").unwrap_err();
        assert_eq!(error.setting, "url_policy.blocklist_file");
        assert!(error.problem.contains("line 2: '10.0.0.1'"), "{error}");
    }

    #[test]
    fn an_endless_blocklist_is_refused_not_read_to_the_end() {
        let yaml = BUILT_IN.replace("blocklist_file:", "blocklist_file: /dev/zero");
        let error = UrlApiConfig::parse("url-api.yaml", &yaml, &env(&[])).unwrap_err();
        assert_eq!(error.setting, "url_policy.blocklist_file");
    }

    #[test]
    fn a_missing_blocklist_is_named() {
        let yaml = BUILT_IN.replace("blocklist_file:", "blocklist_file: /nope.txt");
        let error = UrlApiConfig::parse("url-api.yaml", &yaml, &env(&[])).unwrap_err();
        assert_eq!(error.setting, "url_policy.blocklist_file");
        assert!(error.problem.contains("/nope.txt"), "{error}");
    }
}
