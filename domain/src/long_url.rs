use std::fmt;

use url::Url;

/// A URL that a short code may redirect to. Only constructed through [`LongUrl::parse`], so
/// holding one means every rule below has passed.
///
/// The stored form is the parser's normalised serialisation: ASCII only (IDNA hosts become
/// punycode, other characters are percent-encoded), so it is always safe in a `Location` header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LongUrl(String);

/// Why a URL was rejected, worded for the person who submitted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is empty")]
    Empty,
    #[error("the URL is {actual} bytes long; the limit is {max}")]
    TooLong { actual: usize, max: usize },
    #[error("the URL contains whitespace or a control character")]
    ForbiddenCharacter,
    #[error("the URL is not absolute; it must start with http:// or https://")]
    NotAbsolute,
    #[error("the URL cannot be parsed: {0}")]
    Unparsable(String),
    #[error("the scheme '{0}' is not allowed; use http or https")]
    UnsupportedScheme(String),
    #[error("the URL has no host")]
    MissingHost,
    #[error("the URL must not contain a user name or password")]
    UserInfo,
}

impl LongUrl {
    pub const MAX_LEN: usize = 2048;

    /// Applies the rules: scheme http or https, a host, at most [`Self::MAX_LEN`] bytes (before
    /// and after normalisation), no whitespace or control characters, no user-info.
    ///
    /// # Errors
    /// The first rule that fails, as a [`UrlError`].
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        check_length(input)?;
        // The WHATWG parser silently strips tabs, newlines and edge spaces; a URL that needs
        // that is more likely a paste error or an injection attempt than a link.
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::ForbiddenCharacter);
        }
        let url = Url::parse(input).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => UrlError::NotAbsolute,
            other => UrlError::Unparsable(other.to_string()),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError::UnsupportedScheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlError::MissingHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::UserInfo);
        }
        let normalised = String::from(url);
        check_length(&normalised)?;
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, as the WHATWG parser normalised it (an address when it spells one).
    pub fn host(&self) -> Option<url::Host> {
        Url::parse(&self.0).ok()?.host().map(|host| host.to_owned())
    }
}

fn check_length(url: &str) -> Result<(), UrlError> {
    if url.len() > LongUrl::MAX_LEN {
        return Err(UrlError::TooLong {
            actual: url.len(),
            max: LongUrl::MAX_LEN,
        });
    }
    Ok(())
}

impl fmt::Display for LongUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LongUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LongUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("https://example.com/", "https://example.com/")]
    #[case("http://example.com", "http://example.com/")]
    #[case(
        "https://EXAMPLE.com/Path?q=1#frag",
        "https://example.com/Path?q=1#frag"
    )]
    #[case("https://example.com:8443/a/b", "https://example.com:8443/a/b")]
    #[case("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x")]
    #[case("http://[::1]/", "http://[::1]/")]
    #[case("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4")]
    #[case("HTTPS://example.com/", "https://example.com/")]
    fn accepts_and_normalises(#[case] input: &str, #[case] stored: &str) {
        assert_eq!(LongUrl::parse(input).unwrap().as_str(), stored);
    }

    #[rstest]
    #[case("", UrlError::Empty)]
    #[case("javascript:alert(1)", UrlError::UnsupportedScheme("javascript".into()))]
    #[case("JavaScript:alert(1)", UrlError::UnsupportedScheme("javascript".into()))]
    #[case("data:text/html,hi", UrlError::UnsupportedScheme("data".into()))]
    #[case("ftp://example.com/f", UrlError::UnsupportedScheme("ftp".into()))]
    #[case("file:///etc/passwd", UrlError::UnsupportedScheme("file".into()))]
    #[case("example.com", UrlError::NotAbsolute)]
    #[case("/relative/path", UrlError::NotAbsolute)]
    #[case("https://", UrlError::Unparsable("empty host".into()))]
    #[case("https://exa mple.com", UrlError::ForbiddenCharacter)]
    #[case(" https://example.com", UrlError::ForbiddenCharacter)]
    #[case("https://example.com/\n", UrlError::ForbiddenCharacter)]
    #[case("https://example.com/\t", UrlError::ForbiddenCharacter)]
    #[case("https://example.com/\u{7f}", UrlError::ForbiddenCharacter)]
    #[case("https://example.com/\u{a0}", UrlError::ForbiddenCharacter)]
    #[case("https://user@example.com/", UrlError::UserInfo)]
    #[case("https://user:pw@example.com/", UrlError::UserInfo)]
    #[case("https://:pw@example.com/", UrlError::UserInfo)]
    #[case("http://[::1/", UrlError::Unparsable("invalid IPv6 address".into()))]
    fn rejects_with_a_reason(#[case] input: &str, #[case] expected: UrlError) {
        assert_eq!(LongUrl::parse(input), Err(expected));
    }

    #[rstest]
    #[case(LongUrl::MAX_LEN, true)]
    #[case(LongUrl::MAX_LEN + 1, false)]
    fn limits_the_length(#[case] len: usize, #[case] accepted: bool) {
        let prefix = "https://example.com/";
        let input = format!("{prefix}{}", "a".repeat(len - prefix.len()));
        assert_eq!(LongUrl::parse(&input).is_ok(), accepted);
    }

    #[test]
    fn limits_the_length_after_normalisation_too() {
        // 700 characters of "é" are 1400 bytes in, 4200 bytes once percent-encoded.
        let input = format!("https://example.com/{}", "é".repeat(700));
        assert!(matches!(
            LongUrl::parse(&input),
            Err(UrlError::TooLong { max: 2048, .. })
        ));
    }
}
