//! hyper's types to tide's and back: hyper parses and writes HTTP/1, tide routes and answers.
//!
//! What hyper accepts and tide can't hold is answered here, as a problem: a request target that
//! is not a path, a missing or unusable `Host`, a method tide has no name for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http_body_util::{BodyDataStream, Full};
use hyper::body::{Body as _, Incoming};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Version};
use tide::http::headers::CONTENT_TYPE;
use tide::http::{self as tide_http, Method, Url};

use crate::problem::{Problem, method_not_allowed};

/// Request targets longer than this get 414: no route of ours takes one near it, and a URL to
/// shorten travels in the body.
pub(crate) const MAX_TARGET_BYTES: usize = 8 * 1024;

/// Whether a request's body was read to its end. hyper closes a connection whose request body
/// was left unread (a route that refused the request before reading it); the response must
/// then say `Connection: close`, or a client would send its next request into a closed socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyRead(Option<Arc<AtomicBool>>);

impl BodyRead {
    pub(crate) fn left_unread(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|done| !done.load(Ordering::Acquire))
    }
}

/// The request as tide takes it, or the answer (a problem) to give instead.
pub(crate) fn request(
    req: Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
    body_read: &mut BodyRead,
) -> Result<tide_http::Request, Box<tide_http::Response>> {
    let (head, body) = req.into_parts();
    // An absolute-form target with no path means `/`; an authority-form one (CONNECT's
    // `host:port`) has no path at all, and is refused below.
    let target = match (head.uri.path_and_query(), head.uri.scheme()) {
        (Some(pq), _) => pq.as_str(),
        (None, Some(_)) => "/",
        (None, None) => "",
    };
    if target.len() > MAX_TARGET_BYTES {
        return Err(Problem::new(
            tide::StatusCode::UriTooLong,
            "uri-too-long",
            "URI Too Long",
            format!("the request target is longer than {MAX_TARGET_BYTES} bytes"),
        )
        .into_http()
        .into());
    }
    if !target.starts_with('/') {
        return Err(Problem::bad_request(
            "bad-request-target",
            "the request target must be a path, like /api/v1/links",
        )
        .into_http()
        .into());
    }
    // A method tide has no name for (QUERY, say) is one no route takes.
    let method: Method = head
        .method
        .as_str()
        .parse()
        .map_err(|_| Box::new(method_not_allowed(head.uri.path())))?;
    let host = authority(&head.uri, &head.headers, head.version, local)
        .map_err(|problem| Box::new(problem.into_http()))?;
    let url = Url::parse(&format!("http://{host}{target}")).map_err(|e| {
        let problem = Problem::bad_request(
            "bad-request-target",
            format!("the request URL is unusable: {e}"),
        );
        Box::new(problem.into_http())
    })?;

    let mut out = tide_http::Request::new(method, url);
    out.set_version(Some(match head.version {
        Version::HTTP_10 => tide_http::Version::Http1_0,
        _ => tide_http::Version::Http1_1,
    }));
    for (name, value) in &head.headers {
        out.append_header(name.as_str(), ascii(value).as_str());
    }
    out.set_peer_addr(Some(peer.to_string()));
    out.set_local_addr(Some(local.to_string()));
    if !body.is_end_stream() {
        let len = body
            .size_hint()
            .exact()
            .and_then(|n| usize::try_from(n).ok());
        let done = Arc::new(AtomicBool::new(false));
        *body_read = BodyRead(Some(Arc::clone(&done)));
        let reader = BodyDataStream::new(body)
            .map_err(std::io::Error::other)
            // Polled only once the body has ended.
            .chain(futures::stream::poll_fn(move |_| {
                done.store(true, Ordering::Release);
                Poll::Ready(None)
            }))
            .into_async_read();
        let labelled = out.header(CONTENT_TYPE).is_some();
        out.set_body(tide_http::Body::from_reader(reader, len));
        // Setting a body labels the request `application/octet-stream` when the client said
        // nothing; a handler must see that it said nothing.
        if !labelled {
            out.remove_header(CONTENT_TYPE);
        }
    }
    Ok(out)
}

/// Where the request was sent: the authority of an absolute-form target, else `Host`. HTTP/1.1
/// requires `Host` (RFC 9112 §3.2: 400 without it); HTTP/1.0 may leave it out, and then this
/// server's own address stands in. Only the characters of a host and port are taken, since the
/// value becomes part of the URL that tide routes on.
fn authority(
    uri: &hyper::Uri,
    headers: &hyper::HeaderMap,
    version: Version,
    local: SocketAddr,
) -> Result<String, Problem> {
    // Two Host lines could be read differently by a proxy and by us (RFC 9112 §3.2: 400).
    if headers.get_all(HOST).iter().nth(1).is_some() {
        return Err(Problem::bad_request(
            "bad-host",
            "a request must carry one Host header, not several",
        ));
    }
    let given = match (uri.authority(), headers.get(HOST)) {
        (Some(authority), _) => authority.as_str().to_owned(),
        (None, Some(host)) => String::from_utf8_lossy(host.as_bytes()).into_owned(),
        (None, None) if version == Version::HTTP_10 => return Ok(local.to_string()),
        (None, None) => {
            return Err(Problem::bad_request(
                "missing-host",
                "an HTTP/1.1 request must carry a Host header",
            ));
        }
    };
    let usable = !given.is_empty()
        && given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b));
    if usable {
        Ok(given)
    } else {
        Err(Problem::bad_request(
            "bad-host",
            "the Host header must be a host name or address, with an optional port",
        ))
    }
}

/// A header value as tide holds it: ASCII. Bytes above 0x7F, which HTTP allows as opaque
/// `obs-text` and some user agents send, become `?`; refusing the request instead would lose a
/// visitor's click over a header we only store.
fn ascii(value: &HeaderValue) -> String {
    value
        .as_bytes()
        .iter()
        .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
        .collect()
}

/// tide's response for hyper to write. The body is read whole: every body url-api sends is
/// built in memory, and a known length lets hyper send `Content-Length` and keep the
/// connection.
pub(crate) async fn response(mut res: tide_http::Response) -> Response<Full<Bytes>> {
    let mut out = Response::builder().status(
        StatusCode::from_u16(res.status().into()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, values) in res.iter() {
        for value in values {
            match (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_str(value.as_str()),
            ) {
                (Ok(name), Ok(value)) => out = out.header(name, value),
                _ => tracing::warn!(header = %name, "response header dropped: not valid HTTP"),
            }
        }
    }
    // Read after the headers were copied: taking the body relabels the response.
    let body = match res.take_body().into_bytes().await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "response body could not be read");
            Vec::new()
        }
    };
    out.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| {
        let mut failed = Response::new(Full::new(Bytes::new()));
        *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        failed
    })
}

#[cfg(test)]
mod tests {
    use hyper::HeaderMap;
    use rstest::rstest;

    use super::*;

    const LOCAL: &str = "10.0.0.5:8080";

    fn host_of(target: &str, host: Option<&[u8]>, version: Version) -> Result<String, String> {
        let uri: hyper::Uri = target.parse().unwrap();
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(HOST, HeaderValue::from_bytes(host).unwrap());
        }
        authority(&uri, &headers, version, LOCAL.parse().unwrap())
            .map_err(|problem| problem.detail().to_owned())
    }

    #[rstest]
    #[case("/x", Some(&b"sho.rt"[..]), Version::HTTP_11, "sho.rt")]
    #[case("/x", Some(&b"sho.rt:8080"[..]), Version::HTTP_11, "sho.rt:8080")]
    #[case("/x", Some(&b"[::1]:8080"[..]), Version::HTTP_11, "[::1]:8080")]
    // An absolute-form target names the host itself (RFC 9112 §3.2.2).
    #[case("http://sho.rt/x", Some(&b"other"[..]), Version::HTTP_11, "sho.rt")]
    // HTTP/1.0 may leave Host out: this server's address stands in.
    #[case("/x", None, Version::HTTP_10, LOCAL)]
    fn the_host_is_taken_from_the_request(
        #[case] target: &str,
        #[case] host: Option<&[u8]>,
        #[case] version: Version,
        #[case] expected: &str,
    ) {
        assert_eq!(host_of(target, host, version).as_deref(), Ok(expected));
    }

    #[rstest]
    #[case(None, "an HTTP/1.1 request must carry a Host header")]
    #[case(Some(&b""[..]), "the Host header must be a host name or address, with an optional port")]
    // What would change the path tide routes on, once in the URL.
    #[case(Some(&b"sho.rt/admin?"[..]), "the Host header must be a host name or address, with an optional port")]
    #[case(Some(&b"sho.rt#x"[..]), "the Host header must be a host name or address, with an optional port")]
    #[case(Some(&b"u@sho.rt"[..]), "the Host header must be a host name or address, with an optional port")]
    fn an_unusable_host_is_refused(#[case] host: Option<&[u8]>, #[case] reason: &str) {
        assert_eq!(
            host_of("/x", host, Version::HTTP_11),
            Err(reason.to_owned())
        );
    }

    #[test]
    fn two_host_headers_are_refused() {
        let uri: hyper::Uri = "/x".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.append(HOST, HeaderValue::from_static("sho.rt"));
        headers.append(HOST, HeaderValue::from_static("evil.example"));

        let refused = authority(&uri, &headers, Version::HTTP_11, LOCAL.parse().unwrap());

        assert_eq!(
            refused.map_err(|problem| problem.detail().to_owned()),
            Err("a request must carry one Host header, not several".to_owned())
        );
    }

    #[test]
    fn header_bytes_above_ascii_become_question_marks() {
        let value = HeaderValue::from_bytes(b"caf\xe9 \xff/1.0").unwrap();
        assert_eq!(ascii(&value), "caf? ?/1.0");
    }
}
