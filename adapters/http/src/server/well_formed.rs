//! Requests that hyper reads but no route could take, answered before any engine sees them
//! (so both answer alike): a request target that is not a plain path, a missing, repeated or
//! unusable `Host`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HOST;
use http::{Request, Response, StatusCode, Version};
use tower_layer::Layer;
use tower_service::Service;

use crate::api::problem::Problem;

/// Request targets longer than this get 414: no route of ours takes one near it, and a URL to
/// shorten travels in the body.
pub(crate) const MAX_TARGET_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy)]
pub(crate) struct WellFormedLayer;

impl<S> Layer<S> for WellFormedLayer {
    type Service = WellFormed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WellFormed(inner)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WellFormed<S>(S);

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, RB> Service<Request<B>> for WellFormed<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: From<Bytes> + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match check(&req) {
            Ok(()) => Box::pin(self.0.call(req)),
            Err(problem) => {
                let res = problem.into_response().map(RB::from);
                Box::pin(async move { Ok(res) })
            }
        }
    }
}

fn check<B>(req: &Request<B>) -> Result<(), Problem> {
    let uri = req.uri();
    // An absolute-form target with no path means `/`; an authority-form one (CONNECT's
    // `host:port`) has no path at all.
    let target = match (uri.path_and_query(), uri.scheme()) {
        (Some(pq), _) => pq.as_str(),
        (None, Some(_)) => "/",
        (None, None) => "",
    };
    if target.len() > MAX_TARGET_BYTES {
        return Err(Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI Too Long",
            format!("the request target is longer than {MAX_TARGET_BYTES} bytes"),
        ));
    }
    if !target.starts_with('/') {
        return Err(bad_target(
            "the request target must be a path, like /api/v1/links",
        ));
    }
    // Routers differ on these (one resolves `/a/../b` to `/b`, another routes it as written):
    // no route of ours has them, so no router is asked.
    if uri.path().split('/').any(is_dot_segment) || uri.path().contains('\\') {
        return Err(bad_target(
            "the request path must not hold '.' or '..' segments or backslashes",
        ));
    }
    host(req).map(|_| ())
}

fn bad_target(detail: &str) -> Problem {
    Problem::bad_request("bad-request-target", detail)
}

/// `.` and `..`, percent-encoded or not (URL parsers decode `%2e` here).
fn is_dot_segment(segment: &str) -> bool {
    let segment = segment.to_ascii_lowercase().replace("%2e", ".");
    segment == "." || segment == ".."
}

/// Where the request was sent: the authority of an absolute-form target, else `Host`. HTTP/1.1
/// requires `Host` (RFC 9112 §3.2: 400 without it); HTTP/1.0 may leave it out. Only the
/// characters of a host and port are taken.
fn host<B>(req: &Request<B>) -> Result<Option<String>, Problem> {
    let headers = req.headers();
    // Two Host lines could be read differently by a proxy and by us (RFC 9112 §3.2: 400).
    if headers.get_all(HOST).iter().nth(1).is_some() {
        return Err(Problem::bad_request(
            "bad-host",
            "a request must carry one Host header, not several",
        ));
    }
    let given = match (req.uri().authority(), headers.get(HOST)) {
        (Some(authority), _) => authority.as_str().to_owned(),
        (None, Some(host)) => String::from_utf8_lossy(host.as_bytes()).into_owned(),
        (None, None) if req.version() == Version::HTTP_10 => return Ok(None),
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
        Ok(Some(given))
    } else {
        Err(Problem::bad_request(
            "bad-host",
            "the Host header must be a host name or address, with an optional port",
        ))
    }
}

#[cfg(test)]
mod tests {
    use http::header::HeaderValue;
    use rstest::rstest;

    use super::*;

    fn request(target: &str, host: Option<&[u8]>, version: Version) -> Request<()> {
        let mut req = Request::builder().uri(target).version(version);
        if let Some(host) = host {
            req = req.header(HOST, HeaderValue::from_bytes(host).unwrap());
        }
        req.body(()).unwrap()
    }

    fn refusal(req: &Request<()>) -> Option<String> {
        check(req).err().map(|problem| problem.detail().to_owned())
    }

    #[rstest]
    #[case("/x", Some(&b"sho.rt"[..]), Version::HTTP_11, Some("sho.rt"))]
    #[case("/x", Some(&b"sho.rt:8080"[..]), Version::HTTP_11, Some("sho.rt:8080"))]
    #[case("/x", Some(&b"[::1]:8080"[..]), Version::HTTP_11, Some("[::1]:8080"))]
    // An absolute-form target names the host itself (RFC 9112 §3.2.2).
    #[case("http://sho.rt/x", Some(&b"other"[..]), Version::HTTP_11, Some("sho.rt"))]
    // HTTP/1.0 may leave Host out.
    #[case("/x", None, Version::HTTP_10, None)]
    fn the_host_is_taken_from_the_request(
        #[case] target: &str,
        #[case] host_header: Option<&[u8]>,
        #[case] version: Version,
        #[case] expected: Option<&str>,
    ) {
        let req = request(target, host_header, version);
        assert_eq!(host(&req).unwrap().as_deref(), expected);
        assert_eq!(refusal(&req), None);
    }

    #[rstest]
    #[case(None, "an HTTP/1.1 request must carry a Host header")]
    #[case(Some(&b""[..]), "the Host header must be a host name or address, with an optional port")]
    // What would change the path a router routes on, once in a URL.
    #[case(Some(&b"sho.rt/admin?"[..]), "the Host header must be a host name or address, with an optional port")]
    #[case(Some(&b"sho.rt#x"[..]), "the Host header must be a host name or address, with an optional port")]
    #[case(Some(&b"u@sho.rt"[..]), "the Host header must be a host name or address, with an optional port")]
    fn an_unusable_host_is_refused(#[case] host_header: Option<&[u8]>, #[case] reason: &str) {
        let req = request("/x", host_header, Version::HTTP_11);
        assert_eq!(refusal(&req).as_deref(), Some(reason));
    }

    #[test]
    fn two_host_headers_are_refused() {
        let req = Request::builder()
            .uri("/x")
            .header(HOST, "sho.rt")
            .header(HOST, "evil.example")
            .body(())
            .unwrap();
        assert_eq!(
            refusal(&req).as_deref(),
            Some("a request must carry one Host header, not several")
        );
    }

    #[rstest]
    #[case("/./abcDEF12")]
    #[case("/x/../abcDEF12")]
    #[case("/api/v1/%2E%2e/v1/links")]
    #[case("/api/v1/links/.")]
    #[case("/api\\v1\\links")]
    fn dot_segments_and_backslashes_are_refused(#[case] target: &str) {
        let req = request(target, Some(b"sho.rt"), Version::HTTP_11);
        assert_eq!(
            refusal(&req).as_deref(),
            Some("the request path must not hold '.' or '..' segments or backslashes")
        );
    }

    #[rstest]
    #[case("/abc.DEF")]
    #[case("/...")]
    #[case("/api/v1/openapi.json")]
    fn dots_within_a_segment_are_fine(#[case] target: &str) {
        let req = request(target, Some(b"sho.rt"), Version::HTTP_11);
        assert_eq!(refusal(&req), None);
    }
}
