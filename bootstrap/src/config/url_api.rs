use std::time::Duration;

use serde::Deserialize;

use super::link_api::{
    AuthFile, CacheFile, HttpFile, LinkApiConfig, LinkApiFile, RateLimitsFile, UrlPolicyFile,
};
use super::sections::{
    CommonConfig, CommonFile, DatabaseConfig, DatabaseFile, GuardsFile, KafkaConfig,
};
use super::{ConfigError, Env, Setting, millis, parse_file, read_file, rpc_token};

const BUILT_IN: &str = include_str!("../../etc/url-api.yaml");

/// Everything url-api needs, validated.
#[derive(Debug, Clone)]
pub struct UrlApiConfig {
    /// The HTTP link API, as the embedded shortener has it too.
    pub api: LinkApiConfig,
    pub database: DatabaseConfig,
    pub kafka: KafkaConfig,
    /// Where deletes through one replica reach the others' caches.
    pub link_events_topic: String,
    /// On shutdown, how long queued click events may take to reach Kafka.
    pub flush_timeout: Duration,
    pub analytics_rpc_url: String,
    /// Sent to analytics-rpc with each call (`ANALYTICS_RPC_TOKEN`).
    pub analytics_rpc_token: Option<adapter_grpc::RpcToken>,
    /// How long `GET /api/v1/links/{code}` waits for the click count.
    pub analytics_timeout: Duration,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlApiKafkaFile {
    brokers: String,
    topic: String,
    link_events_topic: String,
    flush_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyticsFile {
    rpc_url: String,
    timeout_ms: u64,
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
        let kafka = KafkaConfig::load(env, file.kafka.brokers, file.kafka.topic)?;
        let link_events_topic = file.kafka.link_events_topic;
        if link_events_topic.is_empty() || link_events_topic == kafka.topic {
            return Err(ConfigError::new(
                "kafka.link_events_topic",
                "must be a topic of its own, not empty nor kafka.topic",
            ));
        }
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
            database: file.database.load(env)?,
            kafka,
            link_events_topic,
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
        assert_eq!(config.api.http_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.api.base_url, "http://localhost:8080");
        assert_eq!(config.api.max_body_bytes, 1024 * 1024);
        assert_eq!(
            config.database.pool.url,
            "postgres://postgres:postgres@localhost:5432/shortener"
        );
        assert_eq!(config.common.log_filter, "info");
        assert!(!config.api.auth.anonymous_shorten);
        assert_eq!(config.api.auth.key_cache_ttl, Duration::from_secs(10));
        let limits = config.api.rate_limits.unwrap();
        assert_eq!(limits.shorten.limit, 60);
        assert_eq!(limits.redirect.window, Duration::from_secs(60));
    }

    #[test]
    fn rate_limits_turn_off_from_the_environment() {
        let config = UrlApiConfig::load([], &env(&[("RATE_LIMITS_ENABLED", "false")])).unwrap();
        assert!(config.api.rate_limits.is_none());
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
                ("HTTP_ENGINE", "axum"),
                ("HTTP_TRUSTED_PROXIES", "2"),
            ]),
        )
        .unwrap();
        assert!(config.api.auth.anonymous_shorten);
        assert_eq!(config.api.trusted_proxies, 2);
        assert_eq!(config.api.engine, adapter_http::Engine::Axum);
        assert_eq!(config.api.http_addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.api.base_url, "https://sho.rt");
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
    #[case("HTTP_ENGINE", "hyper", "HTTP_ENGINE")]
    #[case("HTTP_ENGINE", "Axum", "HTTP_ENGINE")]
    #[case("HTTP_TRUSTED_PROXIES", "true", "HTTP_TRUSTED_PROXIES")]
    #[case("HTTP_TRUSTED_PROXIES", "-1", "HTTP_TRUSTED_PROXIES")]
    #[case("HTTP_TRUSTED_PROXIES", "9", "HTTP_TRUSTED_PROXIES")]
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
    #[case(&BUILT_IN.replace("link_events_topic: link-events", "link_events_topic: \"\""), "kafka.link_events_topic")]
    #[case(&BUILT_IN.replace("link_events_topic: link-events", "link_events_topic: click-events"), "kafka.link_events_topic")]
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
                .api
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
