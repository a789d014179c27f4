//! Reading a JSON request body within the size limit.

use async_std::io::ReadExt;
use serde::de::DeserializeOwned;
use tide::{Request, StatusCode};

use crate::problem::Problem;
use crate::state::State;

/// The body, parsed as `T`, or the problem to answer with: 415 unless the content type is JSON,
/// 413 past the limit, 400 for bad JSON (naming what is wrong and where).
///
/// A body without a content type is refused too, rather than guessed at: the HTTP codec labels
/// it `application/octet-stream`, which can't be told from a client that said so.
pub(crate) async fn json<T: DeserializeOwned>(req: &mut Request<State>) -> Result<T, Problem> {
    let essence = req.content_type().map(|mime| mime.essence().to_owned());
    if !essence
        .as_deref()
        .is_some_and(|e| e == "application/json" || e.ends_with("+json"))
    {
        return Err(Problem::new(
            StatusCode::UnsupportedMediaType,
            "unsupported-media-type",
            "Unsupported Media Type",
            format!(
                "send the body as JSON, with Content-Type: application/json (this request's \
                 body is labelled {})",
                essence.as_deref().unwrap_or("with nothing")
            ),
        ));
    }
    let limit = req.state().settings.max_body_bytes;
    // A declared length over the limit is refused before reading a byte of it.
    if req.len().is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::new();
    // One byte more than the limit tells "at the limit" from "over it" for chunked bodies.
    let mut reader = req.take_body().take(limit as u64 + 1);
    reader.read_to_end(&mut bytes).await.map_err(|e| {
        Problem::bad_request(
            "unreadable-body",
            format!("the body could not be read: {e}"),
        )
    })?;
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            Problem::bad_request("invalid-body", format!("the JSON body does not fit: {e}"))
        } else {
            Problem::bad_request("malformed-json", format!("the body is not valid JSON: {e}"))
        }
    })
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PayloadTooLarge,
        "payload-too-large",
        "Payload Too Large",
        format!("the body is larger than {limit} bytes"),
    )
}
