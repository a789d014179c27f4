//! The client's address: the peer's, or, behind a trusted proxy, the one the proxy forwards.

use std::net::{IpAddr, SocketAddr};

use tide::Request;

use crate::state::State;

/// Who sent the request, as well as can be told: forwarded headers (`Forwarded`,
/// `X-Forwarded-For`) are believed only when `trust_proxy_headers` is on, since anyone can
/// write them.
pub(crate) fn client_ip(req: &Request<State>) -> Option<IpAddr> {
    let addr = if req.state().settings.trust_proxy_headers {
        req.remote()
    } else {
        req.peer_addr()
    }?;
    // peer_addr is "ip:port"; forwarded headers usually carry a bare IP.
    addr.parse::<SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| addr.parse::<IpAddr>())
        .ok()
}
