//! The client's address: the peer's, or, behind trusted proxies, the one the nearest of them
//! forwards.

use std::net::{IpAddr, SocketAddr};

use http::header::HeaderName;
use http::request::Parts;

/// The address at the other end of the connection a request came on, as the server puts it in
/// the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Who sent the request, as well as can be told. With `trusted_proxies` proxies in front, each
/// appending the address it was reached from to `X-Forwarded-For`, the visitor is the entry
/// that many from the end: everything to its left came from the client, who can write
/// anything there. `Forwarded` is never read: a proxy that doesn't write it passes the
/// client's own through. Too few entries, or one that is not an address, leave the peer.
pub(crate) fn client_ip(head: &Parts, trusted_proxies: usize) -> Option<IpAddr> {
    let peer = head.extensions.get::<Peer>().map(|peer| peer.0.ip());
    if trusted_proxies == 0 {
        return peer;
    }
    forwarded_for(head, trusted_proxies).or(peer)
}

fn forwarded_for(head: &Parts, trusted_proxies: usize) -> Option<IpAddr> {
    // A proxy may add a header of its own rather than extend the client's: read them all, in
    // order, as one list (RFC 9110 §5.3).
    let mut hops = Vec::new();
    for value in head.headers.get_all(X_FORWARDED_FOR) {
        hops.extend(value.to_str().ok()?.split(',').map(str::trim));
    }
    let entry = hops.len().checked_sub(trusted_proxies).map(|i| hops[i])?;
    address(entry)
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

    const PEER: &str = "198.51.100.7";

    #[rstest]
    #[case(1, &[], PEER)]
    #[case(1, &[("x-forwarded-for", "203.0.113.9")], "203.0.113.9")]
    #[case(1, &[("x-forwarded-for", "[2001:db8::1]:4711")], "2001:db8::1")]
    #[case(1, &[("x-forwarded-for", "2001:db8::1")], "2001:db8::1")]
    #[case(1, &[("x-forwarded-for", "203.0.113.9:80")], "203.0.113.9")]
    // nginx's `$proxy_add_x_forwarded_for` keeps what the client sent in front of the address it
    // saw: only that last one is the proxy's word.
    #[case(1, &[("x-forwarded-for", "10.9.9.9, 203.0.113.9")], "203.0.113.9")]
    #[case(1, &[("x-forwarded-for", "10.9.9.9"), ("x-forwarded-for", "203.0.113.9")], "203.0.113.9")]
    // Two proxies (a load balancer that appends its own address after the visitor's, say).
    #[case(2, &[("x-forwarded-for", "10.9.9.9, 203.0.113.9, 192.0.2.1")], "203.0.113.9")]
    #[case(2, &[("x-forwarded-for", "10.9.9.9"), ("x-forwarded-for", "203.0.113.9, 192.0.2.1")], "203.0.113.9")]
    // Fewer entries than proxies: the request didn't come through them all.
    #[case(2, &[("x-forwarded-for", "203.0.113.9")], PEER)]
    // What can't be read falls back to the peer.
    #[case(1, &[("x-forwarded-for", "not an address")], PEER)]
    #[case(1, &[("x-forwarded-for", "203.0.113.9, ")], PEER)]
    #[case(1, &[("x-forwarded-for", "unknown")], PEER)]
    // A client's own `Forwarded` passes through proxies that don't write one.
    #[case(1, &[("forwarded", "for=10.9.9.9"), ("x-forwarded-for", "203.0.113.9")], "203.0.113.9")]
    #[case(1, &[("forwarded", "for=10.9.9.9")], PEER)]
    fn behind_trusted_proxies_the_nearest_ones_word_is_the_client(
        #[case] trusted_proxies: usize,
        #[case] headers: &[(&str, &str)],
        #[case] expected: &str,
    ) {
        assert_eq!(
            client_ip(&head(headers), trusted_proxies),
            expected.parse().ok()
        );
    }

    #[test]
    fn forwarded_headers_are_ignored_unless_proxies_are_trusted() {
        let head = head(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(&head, 0), PEER.parse().ok());
    }

    #[test]
    fn a_header_that_is_not_text_leaves_the_peer() {
        let mut head = head(&[]);
        head.headers.insert(
            X_FORWARDED_FOR,
            http::HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap(),
        );
        assert_eq!(client_ip(&head, 1), PEER.parse().ok());
    }
}
