//! Which targets a link may have, beyond being a well-formed URL ([`LongUrl`]).
//!
//! A shortener on the internet is a tool for disguising links. Three kinds are refused:
//! - targets on addresses that are not public (loopback, private networks, link-local with the
//!   cloud metadata service at 169.254.169.254, ...): a visitor's browser would open a page on
//!   the visitor's own network, which is how a short link attacks a router's admin page;
//! - targets on this service's own host, which would redirect to themselves;
//! - domains the operator blocks, with their subdomains.
//!
//! Hosts are compared after the WHATWG normalisation [`LongUrl`] applies, so that `0x7f.1`,
//! `2130706433` and `127.1` are all the loopback address they mean, and `EXAMPLE.com.` is
//! `example.com`. A name that only resolves to a private address is not caught here: that needs
//! DNS, and the answer could change after the check.

use std::collections::HashSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::Host;

use crate::LongUrl;

/// The rules a link's target must pass, as the operator configured them.
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    own_host: Option<Host>,
    blocked: Blocklist,
    allow_private_targets: bool,
}

/// Why a target is refused, worded for the person who submitted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("links to {range} addresses are not allowed ({host})")]
    NonPublicHost { host: String, range: AddressRange },
    #[error("links to this service's own host ({0}) would redirect to themselves")]
    OwnHost(String),
    #[error("links to {0} are blocked here")]
    BlockedDomain(String),
}

/// The kinds of address a public link may not lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRange {
    Loopback,
    /// RFC 1918, the shared address space of carrier-grade NAT (RFC 6598), and IPv6's
    /// deprecated site-local range.
    Private,
    UniqueLocal,
    LinkLocal,
    Unspecified,
    Broadcast,
    Multicast,
    /// 240.0.0.0/4, reserved for future use and routed nowhere.
    Reserved,
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::UniqueLocal => "unique-local",
            Self::LinkLocal => "link-local",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
        })
    }
}

impl UrlPolicy {
    /// `own_base_url` is the service's public base URL: links to its host are refused. An
    /// unparsable one has no host to refuse (the configuration checks it earlier).
    pub fn new(own_base_url: &str, blocked: Blocklist, allow_private_targets: bool) -> Self {
        let own_host = url::Url::parse(own_base_url)
            .ok()
            .and_then(|url| url.host().map(|host| without_final_dot(host.to_owned())));
        Self {
            own_host,
            blocked,
            allow_private_targets,
        }
    }

    /// # Errors
    /// The first rule the target breaks, as a [`PolicyError`].
    pub fn check(&self, url: &LongUrl) -> Result<(), PolicyError> {
        let Some(host) = url.host() else {
            // LongUrl guarantees a host; nothing to check without one.
            return Ok(());
        };
        let host = without_final_dot(host);
        if !self.allow_private_targets
            && let Some(range) = non_public(&host)
        {
            return Err(PolicyError::NonPublicHost {
                host: host.to_string(),
                range,
            });
        }
        if self.own_host.as_ref() == Some(&host) {
            return Err(PolicyError::OwnHost(host.to_string()));
        }
        if let Host::Domain(name) = &host
            && let Some(blocked) = self.blocked.covering(name)
        {
            return Err(PolicyError::BlockedDomain(blocked.to_owned()));
        }
        Ok(())
    }
}

/// Domains whose links are refused, each with its subdomains.
#[derive(Debug, Clone, Default)]
pub struct Blocklist(HashSet<String>);

/// A line of a blocklist that names no domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: '{entry}' is not a domain name")]
pub struct BlocklistError {
    pub line: usize,
    pub entry: String,
}

impl Blocklist {
    /// One domain a line; blank lines and `#` comments are skipped. Names are normalised as
    /// URL hosts are (lower case, IDNA to punycode, no final dot).
    ///
    /// # Errors
    /// The first line that is not a domain name (an address, a URL, a wildcard).
    pub fn parse(text: &str) -> Result<Self, BlocklistError> {
        let mut domains = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            let error = || BlocklistError {
                line: i + 1,
                entry: entry.to_owned(),
            };
            match Host::parse(entry).map(without_final_dot) {
                Ok(Host::Domain(name)) if !name.is_empty() && !name.contains(['*', '/']) => {
                    domains.insert(name);
                }
                _ => return Err(error()),
            }
        }
        Ok(Self(domains))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The blocked domain that is `name` or one of its parents.
    fn covering<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let mut rest = name;
        loop {
            if let Some(blocked) = self.0.get(rest) {
                return Some(blocked);
            }
            rest = rest.split_once('.')?.1;
        }
    }
}

fn without_final_dot(host: Host) -> Host {
    match host {
        Host::Domain(name) if name.ends_with('.') => {
            Host::Domain(name.trim_end_matches('.').to_owned())
        }
        other => other,
    }
}

/// The range a host lies in, when it is not a public one.
fn non_public(host: &Host) -> Option<AddressRange> {
    match host {
        // RFC 6761: `localhost` and every name under it resolve to loopback.
        Host::Domain(name) => {
            (name == "localhost" || name.ends_with(".localhost")).then_some(AddressRange::Loopback)
        }
        Host::Ipv4(ip) => ipv4_range(*ip),
        Host::Ipv6(ip) => ipv6_range(*ip),
    }
}

fn ipv4_range(ip: Ipv4Addr) -> Option<AddressRange> {
    let [a, b, ..] = ip.octets();
    Some(match (a, b) {
        _ if ip.is_broadcast() => AddressRange::Broadcast,
        (0, _) => AddressRange::Unspecified,
        (127, _) => AddressRange::Loopback,
        (169, 254) => AddressRange::LinkLocal,
        (10, _) | (192, 168) => AddressRange::Private,
        (172, 16..=31) | (100, 64..=127) => AddressRange::Private,
        (224..=239, _) => AddressRange::Multicast,
        (240..=255, _) => AddressRange::Reserved,
        _ => return None,
    })
}

fn ipv6_range(ip: Ipv6Addr) -> Option<AddressRange> {
    // An IPv4 address inside an IPv6 one reaches that IPv4 host: judge it as one.
    if let Some(v4) = embedded_ipv4(ip) {
        return ipv4_range(v4);
    }
    let first = ip.segments()[0];
    Some(match first {
        _ if ip.is_unspecified() => AddressRange::Unspecified,
        _ if ip.is_loopback() => AddressRange::Loopback,
        0xfc00..=0xfdff => AddressRange::UniqueLocal,
        0xfe80..=0xfebf => AddressRange::LinkLocal,
        0xfec0..=0xfeff => AddressRange::Private,
        0xff00..=0xffff => AddressRange::Multicast,
        _ => return None,
    })
}

/// The IPv4 address an IPv6 one carries: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`,
/// deprecated), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(low),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, high, low16, ..] => {
            Some(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low16)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn policy(blocklist: &str, allow_private_targets: bool) -> UrlPolicy {
        UrlPolicy::new(
            "https://sho.rt",
            Blocklist::parse(blocklist).unwrap(),
            allow_private_targets,
        )
    }

    fn check(url: &str) -> Result<(), PolicyError> {
        policy("", false).check(&LongUrl::parse(url).unwrap())
    }

    #[rstest]
    #[case("https://example.com/")]
    #[case("https://8.8.8.8/")]
    #[case("https://[2001:db8::1]/")]
    #[case("https://172.32.0.1/")]
    #[case("https://100.128.0.1/")]
    #[case("https://192.169.0.1/")]
    #[case("https://[2002:808:808::]/")]
    #[case("https://localhost.example.com/")]
    #[case("https://sho.rt.example.com/")]
    fn public_targets_pass(#[case] url: &str) {
        assert_eq!(check(url), Ok(()));
    }

    #[rstest]
    #[case("http://127.0.0.1/", "127.0.0.1", AddressRange::Loopback)]
    // What WHATWG normalisation makes of other spellings of loopback.
    #[case("http://0x7f.1/", "127.0.0.1", AddressRange::Loopback)]
    #[case("http://2130706433/", "127.0.0.1", AddressRange::Loopback)]
    #[case("http://017700000001/", "127.0.0.1", AddressRange::Loopback)]
    #[case("http://127.1/", "127.0.0.1", AddressRange::Loopback)]
    #[case("http://localhost:8080/", "localhost", AddressRange::Loopback)]
    #[case("http://LOCALHOST./", "localhost", AddressRange::Loopback)]
    #[case("http://api.localhost/", "api.localhost", AddressRange::Loopback)]
    #[case("http://[::1]/", "[::1]", AddressRange::Loopback)]
    #[case(
        "http://[::ffff:127.0.0.1]/",
        "[::ffff:7f00:1]",
        AddressRange::Loopback
    )]
    #[case("http://10.1.2.3/", "10.1.2.3", AddressRange::Private)]
    #[case("http://172.16.0.1/", "172.16.0.1", AddressRange::Private)]
    #[case("http://172.31.255.255/", "172.31.255.255", AddressRange::Private)]
    #[case("http://192.168.1.1/", "192.168.1.1", AddressRange::Private)]
    #[case("http://100.64.0.1/", "100.64.0.1", AddressRange::Private)]
    #[case("http://[fec0::1]/", "[fec0::1]", AddressRange::Private)]
    #[case(
        "http://[64:ff9b::10.0.0.1]/",
        "[64:ff9b::a00:1]",
        AddressRange::Private
    )]
    #[case(
        "http://[2002:c0a8:101::]/",
        "[2002:c0a8:101::]",
        AddressRange::Private
    )]
    #[case("http://[fd12:3456::1]/", "[fd12:3456::1]", AddressRange::UniqueLocal)]
    #[case(
        "http://169.254.169.254/latest/",
        "169.254.169.254",
        AddressRange::LinkLocal
    )]
    #[case("http://[fe80::1]/", "[fe80::1]", AddressRange::LinkLocal)]
    #[case("http://0.0.0.0/", "0.0.0.0", AddressRange::Unspecified)]
    #[case("http://0/", "0.0.0.0", AddressRange::Unspecified)]
    #[case("http://[::]/", "[::]", AddressRange::Unspecified)]
    #[case("http://255.255.255.255/", "255.255.255.255", AddressRange::Broadcast)]
    #[case("http://224.0.0.1/", "224.0.0.1", AddressRange::Multicast)]
    #[case("http://[ff02::1]/", "[ff02::1]", AddressRange::Multicast)]
    #[case("http://240.0.0.1/", "240.0.0.1", AddressRange::Reserved)]
    fn non_public_targets_are_refused(
        #[case] url: &str,
        #[case] host: &str,
        #[case] range: AddressRange,
    ) {
        assert_eq!(
            check(url),
            Err(PolicyError::NonPublicHost {
                host: host.to_owned(),
                range
            })
        );
    }

    #[test]
    fn private_targets_pass_when_allowed() {
        let intranet = policy("", true);
        for url in [
            "http://10.0.0.7/wiki",
            "http://localhost/",
            "http://[fd00::1]/",
        ] {
            assert_eq!(
                intranet.check(&LongUrl::parse(url).unwrap()),
                Ok(()),
                "{url}"
            );
        }
    }

    #[rstest]
    #[case("https://sho.rt/abcDEF12")]
    #[case("http://SHO.RT./x")]
    #[case("https://sho.rt:8443/")]
    fn the_own_host_is_refused(#[case] url: &str) {
        assert_eq!(check(url), Err(PolicyError::OwnHost("sho.rt".into())));
    }

    #[test]
    fn an_own_host_that_is_an_address_is_refused_even_where_private_ones_are_allowed() {
        let policy = UrlPolicy::new("http://10.0.0.2:8080", Blocklist::default(), true);
        assert_eq!(
            policy.check(&LongUrl::parse("http://10.0.0.2:8080/abc").unwrap()),
            Err(PolicyError::OwnHost("10.0.0.2".into()))
        );
    }

    #[rstest]
    #[case("https://evil.example/", Some("evil.example"))]
    #[case("https://www.Evil.Example./login", Some("evil.example"))]
    #[case("https://a.b.evil.example/", Some("evil.example"))]
    #[case("https://xn--bse-sna.example/", Some("xn--bse-sna.example"))]
    #[case("https://notevil.example/", None)]
    #[case("https://evil.example.org/", None)]
    #[case("https://example/", None)]
    fn blocked_domains_and_their_subdomains_are_refused(
        #[case] url: &str,
        #[case] blocked: Option<&str>,
    ) {
        let policy = policy(
            "# phishing\nEvil.Example\n\n  böse.example  # IDNA\n",
            false,
        );
        assert_eq!(
            policy.check(&LongUrl::parse(url).unwrap()),
            blocked.map_or(Ok(()), |d| Err(PolicyError::BlockedDomain(d.into())))
        );
    }

    #[rstest]
    #[case("10.0.0.1", 1)]
    #[case("ok.example\n*.example", 2)]
    #[case("ok.example\nhttps://x.example/", 2)]
    #[case("[::1]", 1)]
    #[case("exa mple.com", 1)]
    fn a_blocklist_line_that_is_no_domain_is_refused(#[case] text: &str, #[case] line: usize) {
        assert_eq!(Blocklist::parse(text).err().map(|e| e.line), Some(line));
    }

    #[test]
    fn a_blocklist_counts_its_domains() {
        let list = Blocklist::parse("a.example\nA.example.\nb.example\n").unwrap();
        assert_eq!(list.len(), 2);
    }
}
