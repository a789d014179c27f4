use application::use_cases::RedirectError;
use domain::{LongUrl, Visit};
use tide::http::headers::{CACHE_CONTROL, LOCATION, REFERER, USER_AGENT};
use tide::{Request, Response, StatusCode};

use crate::client_ip::client_ip;
use crate::link_path::{code, not_found};
use crate::problem::Problem;
use crate::state::State;

/// `GET /{code}`: 302 to the original URL, and a click. A path that can't be a short code is
/// 404 without a lookup, so scanners and typos never reach the database.
pub(crate) async fn redirect(req: Request<State>) -> tide::Result {
    let Some(code) = code(&req) else {
        return Ok(not_found());
    };
    let visit = Visit::new(
        client_ip(&req),
        req.header(USER_AGENT).map(|v| v.as_str()),
        req.header(REFERER).map(|v| v.as_str()),
    );
    Ok(answer(req.state().links.redirect(code, visit).await))
}

/// `HEAD /{code}`: answers as `GET` does, but records no click. Link previewers and uptime
/// checkers ask with HEAD; they are not visitors.
pub(crate) async fn head(req: Request<State>) -> tide::Result {
    let Some(code) = code(&req) else {
        return Ok(not_found());
    };
    Ok(answer(req.state().links.resolve(code).await))
}

fn answer(found: Result<LongUrl, RedirectError>) -> Response {
    match found {
        // 302, never 301: browsers cache a 301 forever and later visits would go uncounted.
        Ok(url) => Response::builder(StatusCode::Found)
            .header(LOCATION, url.as_str())
            .header(CACHE_CONTROL, "private, max-age=0")
            .build(),
        Err(RedirectError::NotFound) => not_found(),
        Err(RedirectError::Repo(e)) => Problem::from_repo(&e).into(),
    }
}
