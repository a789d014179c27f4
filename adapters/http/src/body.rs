//! Reading a JSON request body (its size is capped by [`crate::guards::BodyLimit`]).

use async_std::io::ReadExt;
use serde::de::DeserializeOwned;
use tide::{Request, StatusCode};

use crate::guards::TooLarge;
use crate::problem::Problem;
use crate::state::State;

/// The body, parsed as `T`, or the problem to answer with: 415 unless the content type is JSON,
/// 413 past the body limit, 400 for bad JSON (naming what is wrong and where).
///
/// A body without a content type is refused too, rather than guessed at.
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
    let mut bytes = Vec::new();
    req.take_body().read_to_end(&mut bytes).await.map_err(|e| {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TooLarge>())
        {
            Some(too_large) => too_large.problem(),
            None => Problem::bad_request(
                "unreadable-body",
                format!("the body could not be read: {e}"),
            ),
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            Problem::bad_request("invalid-body", format!("the JSON body does not fit: {e}"))
        } else {
            Problem::bad_request("malformed-json", format!("the body is not valid JSON: {e}"))
        }
    })
}
