//! Reading a JSON request body. Its size is capped before an engine sees it
//! ([`crate::server::pipeline`] wraps it in `http_body_util::Limited`); what an engine's read
//! fails with is sorted here, so both engines answer alike.

use std::future::Future;

use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;

use crate::api::problem::Problem;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body, parsed as `T`, or the problem to answer with: 415 unless the content type is JSON,
/// 413 past the body limit (`limit` bytes), 400 for bad JSON (naming what is wrong and where).
///
/// A body without a content type is refused too, rather than guessed at.
pub(crate) async fn json<T, B>(head: &Parts, body: B, limit: usize) -> Result<T, Problem>
where
    T: DeserializeOwned,
    B: Future<Output = Result<Bytes, BoxError>>,
{
    let essence = head
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            let essence = value.split(';').next().unwrap_or_default();
            essence.trim().to_ascii_lowercase()
        });
    if !essence
        .as_deref()
        .is_some_and(|e| e == "application/json" || e.ends_with("+json"))
    {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported Media Type",
            format!(
                "send the body as JSON, with Content-Type: application/json (this request's \
                 body is labelled {})",
                essence.as_deref().unwrap_or("with nothing")
            ),
        ));
    }
    let bytes = body.await.map_err(|e| unreadable(&*e, limit))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            Problem::bad_request("invalid-body", format!("the JSON body does not fit: {e}"))
        } else {
            Problem::bad_request("malformed-json", format!("the body is not valid JSON: {e}"))
        }
    })
}

/// 413 when the body was cut off at the limit, else 400 saying why it could not be read.
fn unreadable(e: &(dyn std::error::Error + 'static), limit: usize) -> Problem {
    if caused_by_limit(e) {
        too_large(limit)
    } else {
        Problem::bad_request(
            "unreadable-body",
            format!("the body could not be read: {e}"),
        )
    }
}

/// Whether `LengthLimitError` is anywhere in the chain of causes, whichever wrappers (io,
/// tide's, axum's) an engine put around it.
fn caused_by_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<LengthLimitError>() {
            return true;
        }
        cause = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// 413: the body is larger than the limit.
pub(crate) fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload Too Large",
        format!("the body is larger than {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cut_off() -> BoxError {
        use http_body_util::{BodyExt, Full, Limited};
        let body = Limited::new(Full::new(Bytes::from_static(b"abc")), 1);
        body.collect().await.unwrap_err()
    }

    #[tokio::test]
    async fn the_limit_is_found_under_any_wrapper() {
        assert!(caused_by_limit(&*cut_off().await));
        let io = std::io::Error::other(cut_off().await);
        assert!(caused_by_limit(&io));
        let boxed: BoxError = Box::new(std::io::Error::other(io));
        assert!(caused_by_limit(&*boxed));
        let other = std::io::Error::other("connection reset");
        assert!(!caused_by_limit(&other));
    }
}
