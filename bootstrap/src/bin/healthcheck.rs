//! The containers' health check: asks the service beside it for `/healthz` on its dev server
//! (`DEV_ADDR`) and succeeds only on a 200. Plain std, so the runtime images need no curl.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);
/// `/healthz` answers a line per probe; more than this is not an answer from our dev server.
const MAX_ANSWER: u64 = 64 * 1024;

fn main() -> ExitCode {
    match check() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check() -> Result<(), String> {
    let addr = std::env::var("DEV_ADDR").map_err(|_| "DEV_ADDR is not set".to_owned())?;
    let addr = local(
        addr.parse()
            .map_err(|_| format!("DEV_ADDR: '{addr}' is not an address like 0.0.0.0:6470"))?,
    );
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .and_then(|()| {
            write!(
                stream,
                "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            )
        })
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut answer = String::new();
    stream
        .take(MAX_ANSWER)
        .read_to_string(&mut answer)
        .map_err(|e| format!("{addr}: {e}"))?;
    verdict(&answer)
}

/// A service listening on every interface is asked on loopback.
fn local(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    addr
}

/// Healthy on a 200; otherwise the body says which probes are not ready.
fn verdict(answer: &str) -> Result<(), String> {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head.lines().next().unwrap_or("");
    match status.split(' ').nth(1) {
        Some("200") => Ok(()),
        _ if status.is_empty() => Err("no answer".to_owned()),
        _ => Err(format!("{status}: {}", body.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_200_is_healthy() {
        assert_eq!(
            verdict("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nOK"),
            Ok(())
        );
        assert_eq!(
            verdict("HTTP/1.1 503 Service Unavailable\r\n\r\ndatabase: timed out\n"),
            Err("HTTP/1.1 503 Service Unavailable: database: timed out".to_owned())
        );
        assert_eq!(verdict(""), Err("no answer".to_owned()));
    }

    #[test]
    fn an_unspecified_address_is_asked_on_loopback() {
        assert_eq!(
            local("0.0.0.0:6470".parse().unwrap()),
            "127.0.0.1:6470".parse().unwrap()
        );
        assert_eq!(local("[::]:1".parse().unwrap()), "[::1]:1".parse().unwrap());
        assert_eq!(
            local("10.0.0.2:6470".parse().unwrap()),
            "10.0.0.2:6470".parse().unwrap()
        );
    }
}
