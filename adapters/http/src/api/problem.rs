//! RFC 7807 problem details: every error response of the API is one of these.

use application::ports::RepoError;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Response, StatusCode};
use serde::Serialize;

use crate::api::routes;

#[derive(Debug, Serialize)]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
}

impl Problem {
    /// `slug` names the problem type; the `type` member is a URN built from it, so clients can
    /// match on it without it pretending to be a web page.
    pub(crate) fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("urn:shortener:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    pub(crate) fn bad_request(slug: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, slug, "Bad Request", detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not Found", detail)
    }

    /// The store failed: 503 when it's worth retrying, 400 when it refused the request's own
    /// content, else an opaque 500 (logged here, since the client is told nothing).
    pub(crate) fn from_repo(e: &RepoError) -> Self {
        match e {
            RepoError::Rejected(reason) => {
                // The store's words name its internals; the client learns only that its input
                // can't be kept, and the log keeps the reason.
                tracing::info!(%reason, "the link store refused the request's input");
                Self::bad_request(
                    "unstorable-input",
                    "the request holds a value the link store cannot keep",
                )
            }
            RepoError::Unavailable(_) => {
                tracing::warn!(error = %e, "link store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service Unavailable",
                    "the link store is unavailable; try again shortly",
                )
            }
            RepoError::CircuitOpen => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "circuit-open",
                "Service Unavailable",
                "the link store has been failing; calls to it are paused while it recovers",
            ),
            RepoError::CodeTaken | RepoError::Unexpected(_) => Self::internal(e),
        }
    }

    pub(crate) fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
            "the server failed to handle this request",
        )
    }
}

impl Problem {
    /// The problem as a response, for either engine.
    pub(crate) fn into_response(self) -> Response<Bytes> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serialising four plain fields can't fail; an empty body is the harmless fallback.
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = Response::new(Bytes::from(body));
        *res.status_mut() = status;
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

/// The media type of every error body.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// The answer to a request no route takes: 405 with `Allow` when its path is a route's (the
/// methods that route takes), else 404. Each engine's router answers with it.
pub(crate) fn unrouted(path: &str) -> Response<Bytes> {
    let allowed = routes::allowed_methods(path);
    if allowed.is_empty() {
        return Problem::not_found("no such resource").into_response();
    }
    let allowed: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    let mut res = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method Not Allowed",
        "this resource does not take that method",
    )
    .into_response();
    if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(ALLOW, allow);
    }
    res
}
