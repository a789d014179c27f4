//! The configuration loaders of the four servers (the stack's three and the embedded shortener), on a YAML file and environment variables an
//! operator could write. The input is the file's text, then optionally a line `---env---` and
//! `NAME=value` lines. Loading never panics, and a refusal is one line naming the setting, in
//! which no URL shows its password, and which never shows `DATABASE_URL`'s password unless some
//! other input holds it outside a URL (an error quotes the value it refuses, and a bare word
//! can't be told a secret).
#![no_main]

use std::collections::HashMap;

use bootstrap::config::{
    AnalyticsConsumerConfig, AnalyticsRpcConfig, ConfigError, ShortenerConfig, UrlApiConfig,
};
use libfuzzer_sys::fuzz_target;

/// Whether some `scheme://user:password@host` in `line` shows its password (masked is `***`).
fn shows_a_url_password(line: &str) -> bool {
    line.split("://").skip(1).any(|after| {
        let authority = after
            .split(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .next()
            .unwrap_or_default();
        authority.rsplit_once('@').is_some_and(|(userinfo, _)| {
            userinfo
                .split_once(':')
                .is_some_and(|(_, password)| password != "***")
        })
    })
}

fuzz_target!(|input: &str| {
    let (yaml, env_lines) = input.split_once("\n---env---\n").unwrap_or((input, ""));
    let vars: HashMap<String, String> = env_lines
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let env = |name: &str| vars.get(name).cloned();
    let password = vars
        .get("DATABASE_URL")
        .and_then(|url| url::Url::parse(url).ok())
        .and_then(|url| url.password().map(str::to_owned))
        // Short ones could appear in a message by chance.
        .filter(|password| password.len() >= 12)
        .filter(|password| {
            !yaml.contains(password.as_str())
                && !vars.iter().any(|(name, value)| {
                    name != "DATABASE_URL" && value.contains(password.as_str())
                })
        });
    let check = |result: Result<(), ConfigError>| {
        let Err(error) = result else { return };
        let line = error.to_string();
        assert!(!error.setting.is_empty(), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
        if let Some(password) = &password {
            assert!(!line.contains(password.as_str()), "{line}");
        }
        assert!(!shows_a_url_password(&line), "{line}");
    };
    check(UrlApiConfig::parse("fuzz.yaml", yaml, &env).map(drop));
    check(AnalyticsRpcConfig::parse("fuzz.yaml", yaml, &env).map(drop));
    check(AnalyticsConsumerConfig::parse("fuzz.yaml", yaml, &env).map(drop));
    check(ShortenerConfig::parse("fuzz.yaml", yaml, &env).map(drop));
});
