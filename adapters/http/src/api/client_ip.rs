//! The client's address: the peer's, or, behind a trusted proxy, the one the proxy forwards.

use std::net::{IpAddr, SocketAddr};

use http::header::HeaderName;
use http::request::Parts;

/// The address at the other end of the connection a request came on, as the server puts it in
/// the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Who sent the request, as well as can be told: forwarded headers (`Forwarded`, else
/// `X-Forwarded-For`, the first hop in either) are believed only when `trust_proxy_headers` is
/// on, since anyone can write them.
pub(crate) fn client_ip(head: &Parts, trust_proxy_headers: bool) -> Option<IpAddr> {
    let peer = head.extensions.get::<Peer>().map(|peer| peer.0.ip());
    if !trust_proxy_headers {
        return peer;
    }
    forwarded(head).or_else(|| x_forwarded_for(head)).or(peer)
}

/// The `for=` of the first element of `Forwarded` (RFC 7239): a quoted IPv6 in brackets, an
/// address with a port, or a bare address.
fn forwarded(head: &Parts) -> Option<IpAddr> {
    let value = head.headers.get(FORWARDED)?.to_str().ok()?;
    let first = value.split(',').next()?;
    let node = first.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })?;
    address(node)
}

fn x_forwarded_for(head: &Parts) -> Option<IpAddr> {
    let value = head.headers.get(X_FORWARDED_FOR)?.to_str().ok()?;
    address(value.split(',').next()?.trim())
}

fn address(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .or_else(|_| node.parse::<SocketAddr>().map(|a| a.ip()))
        .or_else(|_| node.trim_start_matches('[').trim_end_matches(']').parse())
        .ok()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn head(headers: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::builder().uri("/x");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let (mut head, ()) = req.body(()).unwrap().into_parts();
        head.extensions
            .insert(Peer("198.51.100.7:5555".parse().unwrap()));
        head
    }

    #[rstest]
    #[case(&[], "198.51.100.7")]
    #[case(&[("forwarded", "for=203.0.113.9")], "203.0.113.9")]
    #[case(&[("forwarded", r#"for="[2001:db8::1]:4711";proto=https, for=10.1.1.1"#)], "2001:db8::1")]
    #[case(&[("forwarded", "proto=https;For=203.0.113.9:80")], "203.0.113.9")]
    #[case(&[("x-forwarded-for", "203.0.113.9, 10.1.1.1")], "203.0.113.9")]
    #[case(&[("forwarded", "for=203.0.113.1"), ("x-forwarded-for", "203.0.113.2")], "203.0.113.1")]
    // What can't be read falls back to the peer.
    #[case(&[("forwarded", "for=unknown")], "198.51.100.7")]
    #[case(&[("x-forwarded-for", "not an address")], "198.51.100.7")]
    fn behind_a_trusted_proxy_the_forwarded_address_is_the_client(
        #[case] headers: &[(&str, &str)],
        #[case] expected: &str,
    ) {
        assert_eq!(client_ip(&head(headers), true), expected.parse().ok());
    }

    #[test]
    fn forwarded_headers_are_ignored_unless_trusted() {
        let head = head(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(&head, false), "198.51.100.7".parse().ok());
    }
}
