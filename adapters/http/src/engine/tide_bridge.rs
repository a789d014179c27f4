//! hyper's types to tide's and back, for the tide engine: hyper parses and writes HTTP/1, tide
//! routes. The request's head travels in the tide request as it came ([`Head`]), for the API to
//! read; tide itself is given only what it routes on.

use std::task::Poll;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::header::{HeaderName, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyDataStream, Full};
use hyper::body::Body;
use tide::http::{self as tide_http, Url};

use crate::api::BoxError;
use crate::api::problem::{Problem, unrouted};

/// The head of the request as hyper read it.
pub(super) struct Head(pub(super) Parts);

/// The request as tide takes it, or the answer to give instead: a method tide has no name for
/// (QUERY, say) is one no route takes.
pub(super) fn request<B>(req: Request<B>) -> Result<tide_http::Request, Box<Response<Bytes>>>
where
    B: Body<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    let (head, body) = req.into_parts();
    let Ok(method) = head.method.as_str().parse::<tide_http::Method>() else {
        return Err(Box::new(unrouted(head.uri.path())));
    };
    // tide routes on a URL; the host in it is never read (the pipeline checked `Host`).
    let target = head.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = Url::parse(&format!("http://localhost{target}")).map_err(|e| {
        let problem = Problem::bad_request(
            "bad-request-target",
            format!("the request URL is unusable: {e}"),
        )
        .into_response();
        Box::new(problem)
    })?;
    let mut out = tide_http::Request::new(method, url);
    if !body.is_end_stream() {
        let len = body
            .size_hint()
            .exact()
            .and_then(|n| usize::try_from(n).ok());
        let reader = BodyDataStream::new(body)
            .map_err(|e| std::io::Error::other(e.into()))
            // Read to its end, so that the body's own end is seen (see `server::body_read`).
            .chain(futures::stream::poll_fn(|_| Poll::Ready(None)))
            .into_async_read();
        out.set_body(tide_http::Body::from_reader(reader, len));
    }
    out.ext_mut().insert(Head(head));
    Ok(out)
}

/// The API's answer as a tide response.
pub(super) fn to_tide(res: Response<Bytes>) -> tide::Response {
    let (head, body) = res.into_parts();
    let status = tide::StatusCode::try_from(head.status.as_u16())
        .unwrap_or(tide::StatusCode::InternalServerError);
    let mut out = tide::Response::new(status);
    for (name, value) in &head.headers {
        if let Ok(value) = value.to_str() {
            out.append_header(name.as_str(), value);
        }
    }
    if !body.is_empty() {
        let content_type = out.header(tide_http::headers::CONTENT_TYPE).cloned();
        out.set_body(body.to_vec());
        // Setting a body labels the response with the body's type; keep the API's.
        if let Some(content_type) = content_type {
            out.insert_header(tide_http::headers::CONTENT_TYPE, content_type.as_str());
        }
    }
    out
}

/// tide's response for hyper to write. The body is read whole: every body url-api sends is
/// built in memory, and a known length lets hyper send `Content-Length` and keep the
/// connection.
pub(super) async fn response(mut res: tide_http::Response) -> Response<Full<Bytes>> {
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
