//! What url-api and the embedded shortener share: the HTTP link API's settings, from the same
//! YAML sections (http, guards, cache, url_policy, auth, rate_limits) in both files.

use std::net::SocketAddr;
use std::time::Duration;

use adapter_cache::CacheSettings;
use adapter_http::{ClientTimeouts, Engine};
use adapter_ratelimit::LimitSettings;
use application::ports::Quota;
use domain::{Blocklist, UrlPolicy};
use serde::Deserialize;

use super::sections::{GuardsConfig, GuardsFile};
use super::{ConfigError, Env, Setting, millis, positive};

/// The HTTP link API's settings, validated.
#[derive(Debug, Clone)]
pub struct LinkApiConfig {
    pub http_addr: SocketAddr,
    pub base_url: String,
    pub max_body_bytes: usize,
    pub drain_timeout: Duration,
    /// How long a client may keep a connection waiting (see the README's "Serving behind a
    /// proxy").
    pub client_timeouts: ClientTimeouts,
    /// How many proxies in front append to `X-Forwarded-For` (see the README's "Serving
    /// behind a proxy").
    pub trusted_proxies: usize,
    /// Which HTTP engine serves the API.
    pub engine: Engine,
    /// Requests in progress at once; more get 503.
    pub max_conns: usize,
    pub guards: GuardsConfig,
    /// The in-process cache of links that redirects read.
    pub cache: CacheSettings,
    /// Which targets a link may have (its own host is the base URL's).
    pub url_policy: UrlPolicy,
    pub auth: AuthConfig,
    /// Each client's budgets; `None` when `rate_limits.enabled` is off.
    pub rate_limits: Option<LimitSettings>,
}

/// The file's sections that make a [`LinkApiConfig`].
pub(super) struct LinkApiFile {
    pub(super) http: HttpFile,
    pub(super) guards: GuardsFile,
    pub(super) cache: CacheFile,
    pub(super) url_policy: UrlPolicyFile,
    pub(super) auth: AuthFile,
    pub(super) rate_limits: RateLimitsFile,
}

impl LinkApiFile {
    pub(super) fn load(self, env: &impl Env) -> Result<LinkApiConfig, ConfigError> {
        let http = self.http;
        let base_url = Setting::new(env, "BASE_URL", "http.base_url", http.base_url).http_url()?;
        let max_body_bytes = positive("http.max_body_bytes", http.max_body_bytes)?;
        let engine = Setting::new(env, "HTTP_ENGINE", "http.engine", http.engine);
        let engine = Engine::parse(&engine.value)
            .ok_or_else(|| engine.error(format!("'{}' must be tide or axum", engine.value)))?;
        Ok(LinkApiConfig {
            http_addr: Setting::new(env, "HTTP_ADDR", "http.addr", http.addr).socket_addr()?,
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
            max_body_bytes: usize::try_from(max_body_bytes)
                .map_err(|_| ConfigError::new("http.max_body_bytes", "is too large"))?,
            drain_timeout: millis("http.drain_timeout_ms", http.drain_timeout_ms)?,
            client_timeouts: ClientTimeouts {
                header: millis("http.header_timeout_ms", http.header_timeout_ms)?,
                idle: millis("http.idle_timeout_ms", http.idle_timeout_ms)?,
            },
            trusted_proxies: Setting::new(
                env,
                "HTTP_TRUSTED_PROXIES",
                "http.trusted_proxies",
                http.trusted_proxies.to_string(),
            )
            .count(MAX_TRUSTED_PROXIES)?,
            engine,
            max_conns: usize::try_from(positive("http.max_conns", http.max_conns)?)
                .unwrap_or(usize::MAX),
            guards: self.guards.load()?,
            cache: CacheSettings {
                max_bytes: positive("cache.max_bytes", self.cache.max_bytes)?,
                ttl: millis("cache.ttl_ms", self.cache.ttl_ms)?,
            },
            url_policy: self.url_policy.load(base_url.as_str())?,
            auth: self.auth.load(env)?,
            rate_limits: self.rate_limits.load(env)?,
        })
    }
}

/// More proxies in a row than any deployment has: a larger number is a mistake.
const MAX_TRUSTED_PROXIES: usize = 8;

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
pub(super) struct RateLimitsFile {
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
pub(super) struct AuthFile {
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
pub(super) struct UrlPolicyFile {
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
pub(super) struct CacheFile {
    max_bytes: u64,
    ttl_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HttpFile {
    addr: String,
    base_url: String,
    max_body_bytes: u64,
    drain_timeout_ms: u64,
    header_timeout_ms: u64,
    idle_timeout_ms: u64,
    trusted_proxies: u64,
    max_conns: u64,
    /// Absent from a file written before there were two engines: the default one.
    #[serde(default = "default_engine")]
    engine: String,
}

fn default_engine() -> String {
    Engine::default().name().to_owned()
}
