//! Configuration: a YAML file (`--config PATH`, else the default built into the binary), then
//! environment variables on top. Any problem is one `ConfigError` naming the setting.

mod analytics_consumer;
mod analytics_rpc;
mod link_api;
mod sections;
mod shortener;
mod url_api;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;

pub use analytics_consumer::AnalyticsConsumerConfig;
pub use analytics_rpc::AnalyticsRpcConfig;
pub use link_api::{AuthConfig, LinkApiConfig};
pub use sections::{CommonConfig, DatabaseConfig, GuardsConfig, KafkaConfig};
pub use shortener::{DATA_FILE, ShortenerConfig, StorageConfig};
pub use url_api::UrlApiConfig;

/// A setting that can't be used: where it came from and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    /// One line, whatever the setting's value held, and never a password: a YAML error quotes
    /// the value it choked on, which may be a database URL with its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = format!("invalid configuration: {}: {}", self.setting, self.problem);
        f.write_str(&mask_passwords(&escape_controls(&line)))
    }
}

/// `scheme://user:password@host` becomes `scheme://user:***@host`, wherever it appears.
fn mask_passwords(text: &str) -> String {
    // Byte ranges of the passwords; every `://` is looked at, even one that starts inside the
    // text before it (two URLs run together).
    let mut passwords = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        // The authority ends where URL syntax ends it: at a path, a query or a fragment. Not at
        // a space, a quote or a backtick, which a malformed URL may hold in its password:
        // masking too much of an error line costs nothing, too little shows the password.
        let length = text[start..]
            .find(['/', '?', '#'])
            .unwrap_or(text.len() - start);
        let authority = &text[start..start + length];
        if let Some(host) = authority.rfind('@')
            && let Some(colon) = authority[..host].find(':')
        {
            passwords.push(start + colon + 1..start + host);
        }
        from = start;
    }
    let mut masked = String::with_capacity(text.len());
    let mut shown = 0;
    for password in passwords {
        masked.push_str(&text[shown..password.start]);
        masked.push_str("***");
        shown = password.end;
    }
    masked.push_str(&text[shown..]);
    masked
}

/// Line breaks and other control characters as escapes, so an error stays one line.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// Where to read variables from: the process environment, or a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The file `--config` names, or the binary's built-in defaults: its name (for errors) and text.
fn read_file(
    args: impl IntoIterator<Item = String>,
    built_in: &str,
) -> Result<(String, String), ConfigError> {
    match config_path(args)? {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::new("--config", format!("cannot read {path}: {e}")))?;
            Ok((path, text))
        }
        None => Ok(("built-in defaults".to_owned(), built_in.to_owned())),
    }
}

/// A file's settings, parsed strictly: an unknown key is an error, not a silent default.
fn parse_file<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, ConfigError> {
    serde_yaml_ng::from_str(text).map_err(|e| ConfigError::new(name, e.to_string()))
}

fn config_path(args: impl IntoIterator<Item = String>) -> Result<Option<String>, ConfigError> {
    let mut args = args.into_iter();
    let mut path = None;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--config") {
            Some("") => args.next(),
            Some(rest) if rest.starts_with('=') => Some(rest[1..].to_owned()),
            _ => {
                return Err(ConfigError::new(
                    arg,
                    "unknown argument; the only one is --config PATH",
                ));
            }
        };
        path = Some(value.ok_or_else(|| ConfigError::new("--config", "needs a path"))?);
    }
    Ok(path)
}

/// One setting: the file's value unless the variable is set. Remembers which it was, so an
/// error names what the operator actually wrote.
struct Setting {
    name: String,
    value: String,
}

impl Setting {
    fn new(env: &impl Env, var: &str, key: &str, file_value: String) -> Self {
        match env.var(var) {
            Some(value) => Self {
                name: var.to_owned(),
                value,
            },
            None => Self {
                name: key.to_owned(),
                value: file_value,
            },
        }
    }

    fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.value.parse().map_err(|_| {
            self.error(format!(
                "'{}' is not an address like 0.0.0.0:8080",
                self.value
            ))
        })
    }

    /// An absolute http(s) URL.
    fn http_url(&self) -> Result<url::Url, ConfigError> {
        let url = url::Url::parse(&self.value)
            .map_err(|e| self.error(format!("'{}' is not a URL ({e})", self.value)))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(self.error(format!(
                "'{}' must be an http:// or https:// URL",
                self.value
            )));
        }
        Ok(url)
    }

    /// `true` or `false`.
    fn boolean(&self) -> Result<bool, ConfigError> {
        match self.value.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(self.error(format!("'{other}' must be true or false"))),
        }
    }

    /// A whole number from 0 to `max`.
    fn count(&self, max: usize) -> Result<usize, ConfigError> {
        self.value
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| self.error(format!("'{}' must be a number from 0 to {max}", self.value)))
    }

    /// A PostgreSQL URL. Errors show it with the password masked.
    fn postgres_url(&self) -> Result<String, ConfigError> {
        let url =
            url::Url::parse(&self.value).map_err(|e| self.error(format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(self.error(format!(
                "the scheme must be postgres://, not {}://",
                url.scheme()
            )));
        }
        if !url.has_host() {
            return Err(self.error("names no host"));
        }
        Ok(self.value.clone())
    }

    fn error(&self, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.name.clone(), problem)
    }
}

/// `ANALYTICS_RPC_TOKEN`, from the environment only (a secret has no place in a file that is
/// committed): unset or empty means no token.
fn rpc_token(env: &impl Env) -> Result<Option<adapter_grpc::RpcToken>, ConfigError> {
    let value = env.var("ANALYTICS_RPC_TOKEN").unwrap_or_default();
    adapter_grpc::RpcToken::new(&value).map_err(|e| ConfigError::new("ANALYTICS_RPC_TOKEN", e))
}

/// `DATABASE_URL`, for the tools that read nothing else (`admin`).
///
/// # Errors
/// When it is not a PostgreSQL URL.
pub fn database_url(env: &impl Env) -> Result<String, ConfigError> {
    Setting::new(
        env,
        "DATABASE_URL",
        "DATABASE_URL",
        DEFAULT_DATABASE_URL.to_owned(),
    )
    .postgres_url()
}

/// Where every binary looks for PostgreSQL unless told otherwise (DESIGN.md's default).
const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@localhost:5432/shortener";

fn positive(key: &str, value: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(key, "must be more than 0"));
    }
    Ok(value)
}

fn millis(key: &str, value: u64) -> Result<Duration, ConfigError> {
    positive(key, value).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("postgres://u:secret@db:5432/x", "postgres://u:***@db:5432/x")]
    #[case(
        "'postgres://u:s3cr3t@db/x' is wrong",
        "'postgres://u:***@db/x' is wrong"
    )]
    #[case(
        "\"http://a:b@c\", then https://d:e@f?g",
        "\"http://a:***@c\", then https://d:***@f?g"
    )]
    #[case(
        "postgres://u@db/x and http://host:8080/",
        "postgres://u@db/x and http://host:8080/"
    )]
    #[case("no url here", "no url here")]
    #[case("x://a:b@c", "x://a:***@c")]
    #[case("x://a:b@c:d@e/f", "x://a:***@e/f")]
    #[case("postgres://u:pa ss@db/x", "postgres://u:***@db/x")]
    #[case("postgres://`u:pw@db/x", "postgres://`u:***@db/x")]
    #[case("'postgres://u:p\"w@db' is wrong", "'postgres://u:***@db' is wrong")]
    #[case("`querypostgres://\\t:secret@db/x`", "`querypostgres://\\t:***@db/x`")]
    // Two URLs run together (found by the config fuzzer).
    #[case(
        "postgres://u:a_postgres://u:averylongsecret2@db:5432/x",
        "postgres://u:a_postgres://u:***@db:5432/x"
    )]
    #[case("x://", "x://")]
    fn masks_every_url_password(#[case] text: &str, #[case] masked: &str) {
        assert_eq!(mask_passwords(text), masked);
    }

    #[test]
    fn a_control_character_in_a_url_does_not_hide_its_password() {
        // serde quotes an unknown field's name as it is, tab and all (found by the config
        // fuzzer in CI).
        let error = ConfigError::new(
            "url-api.yaml",
            "database: unknown field `querypostgres://\t:averylongsecret1@db/x`",
        );
        assert_eq!(
            error.to_string(),
            "invalid configuration: url-api.yaml: database: unknown field \
             `querypostgres://\\t:***@db/x`"
        );
    }

    #[test]
    fn an_error_is_one_line_without_passwords() {
        // What serde says of a URL put where a section belongs, once its value holds a line
        // break: found by the config fuzzer.
        let error = ConfigError::new(
            "url-api.yaml",
            "database: invalid type: string \"postgres://u:averylongsecret1@db/x\nmore\", \
             expected struct DatabaseFile",
        );
        let line = error.to_string();
        assert_eq!(
            line,
            "invalid configuration: url-api.yaml: database: invalid type: string \
             \"postgres://u:***@db/x\\nmore\", expected struct DatabaseFile"
        );
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[rstest]
    #[case(&[], Ok(None))]
    #[case(&["--config", "a.yaml"], Ok(Some("a.yaml")))]
    #[case(&["--config=b.yaml"], Ok(Some("b.yaml")))]
    #[case(&["--config"], Err("--config"))]
    #[case(&["--verbose"], Err("--verbose"))]
    fn reads_the_config_flag(#[case] given: &[&str], #[case] expected: Result<Option<&str>, &str>) {
        let result = config_path(args(given));
        match expected {
            Ok(path) => assert_eq!(result.unwrap().as_deref(), path),
            Err(setting) => assert_eq!(result.unwrap_err().setting, setting),
        }
    }
}
