//! RFC 7807 problem details: every error response of the API is one of these.

use std::future::Future;
use std::pin::Pin;

use application::ports::RepoError;
use serde::Serialize;
use tide::http::headers::ALLOW;
use tide::http::mime::Mime;
use tide::{Next, Request, Response, StatusCode};

use crate::routes;

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
            status: status as u16,
            detail: detail.into(),
        }
    }

    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    pub(crate) fn bad_request(slug: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BadRequest, slug, "Bad Request", detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NotFound, "not-found", "Not Found", detail)
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
                    StatusCode::ServiceUnavailable,
                    "unavailable",
                    "Service Unavailable",
                    "the link store is unavailable; try again shortly",
                )
            }
            RepoError::CircuitOpen => Self::new(
                StatusCode::ServiceUnavailable,
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
            StatusCode::InternalServerError,
            "internal",
            "Internal Server Error",
            "the server failed to handle this request",
        )
    }
}

impl Problem {
    /// As a raw http-types response, for the server loop outside tide's routing.
    pub(crate) fn into_http(self) -> tide::http::Response {
        Response::from(self).into()
    }
}

impl From<Problem> for Response {
    fn from(problem: Problem) -> Self {
        let status =
            StatusCode::try_from(problem.status).unwrap_or(StatusCode::InternalServerError);
        // Serialising four plain fields can't fail; an empty body is the harmless fallback.
        let body = serde_json::to_string(&problem).unwrap_or_default();
        Response::builder(status)
            .content_type(problem_json())
            .body(body)
            .build()
    }
}

fn problem_json() -> Mime {
    Mime::from("application/problem+json")
}

/// 405 for a method `path` does not take, whether tide's router or the HTTP bridge found it:
/// a problem body, and `Allow` with the methods the path's route takes.
pub(crate) fn method_not_allowed(path: &str) -> tide::http::Response {
    let allowed: Vec<String> = routes::allowed_methods(path)
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut res: tide::http::Response = Problem::new(
        StatusCode::MethodNotAllowed,
        "method-not-allowed",
        "Method Not Allowed",
        "this resource does not take that method",
    )
    .into_http();
    res.insert_header(ALLOW, allowed.join(", "));
    res
}

/// tide answers unmatched routes (404) and methods (405) with an empty body; this gives them,
/// and any other bodiless error, a problem body like every other error.
pub(crate) fn fill_empty_errors<'a, S: Clone + Send + Sync + 'static>(
    req: Request<S>,
    next: Next<'a, S>,
) -> Pin<Box<dyn Future<Output = tide::Result> + Send + 'a>> {
    Box::pin(async move {
        let path = req.url().path().to_owned();
        let res = next.run(req).await;
        let status = res.status();
        if status == StatusCode::MethodNotAllowed && res.is_empty() != Some(false) {
            return Ok(Response::from_res(method_not_allowed(&path)));
        }
        if (status.is_client_error() || status.is_server_error()) && res.is_empty() != Some(false) {
            let title = status.canonical_reason();
            let detail = match status {
                StatusCode::NotFound => "no such resource",
                _ => title,
            };
            let slug = title.to_ascii_lowercase().replace(' ', "-");
            let mut res = res;
            let problem = Problem::new(status, &slug, title, detail);
            res.set_body(serde_json::to_string(&problem).unwrap_or_default());
            res.set_content_type(problem_json());
            return Ok(res);
        }
        Ok(res)
    })
}
