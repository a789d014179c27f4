//! `GET` and `HEAD /{code}`.

use std::net::IpAddr;

use application::use_cases::RedirectError;
use bytes::Bytes;
use domain::{LongUrl, Visit};
use http::header::{CACHE_CONTROL, HeaderValue, LOCATION, REFERER, USER_AGENT};
use http::request::Parts;
use http::{Response, StatusCode};

use crate::api::Api;
use crate::api::link_path::{code, not_found};
use crate::api::problem::Problem;

/// `GET /{code}`: 302 to the original URL, and a click. A path that can't be a short code is
/// 404 without a lookup, so scanners and typos never reach the database.
pub(super) async fn redirect(api: &Api, head: &Parts, client: Option<IpAddr>) -> Response<Bytes> {
    let Some(code) = code(head) else {
        return not_found();
    };
    let user_agent = text(head, &USER_AGENT);
    let referer = text(head, &REFERER);
    let visit = Visit::new(client, user_agent.as_deref(), referer.as_deref());
    answer(api.links.redirect(code, visit).await)
}

/// `HEAD /{code}`: answers as `GET` does, but records no click. Link previewers and uptime
/// checkers ask with HEAD; they are not visitors.
pub(super) async fn head(api: &Api, head: &Parts) -> Response<Bytes> {
    let Some(code) = code(head) else {
        return not_found();
    };
    answer(api.links.resolve(code).await)
}

/// A header as text. Bytes above 0x7F, which HTTP allows as opaque `obs-text` and some user
/// agents send, become `?`: refusing the request instead would lose a visitor's click over a
/// header we only store.
fn text(head: &Parts, name: &http::header::HeaderName) -> Option<String> {
    let value = head.headers.get(name)?;
    Some(
        value
            .as_bytes()
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect(),
    )
}

fn answer(found: Result<LongUrl, RedirectError>) -> Response<Bytes> {
    match found {
        // 302, never 301: browsers cache a 301 forever and later visits would go uncounted.
        Ok(url) => {
            let Ok(location) = HeaderValue::try_from(url.as_str()) else {
                return Problem::internal(&"a stored URL is not a valid header").into_response();
            };
            let mut res = Response::new(Bytes::new());
            *res.status_mut() = StatusCode::FOUND;
            let headers = res.headers_mut();
            headers.insert(LOCATION, location);
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=0"),
            );
            res
        }
        Err(RedirectError::NotFound) => not_found(),
        Err(RedirectError::Repo(e)) => Problem::from_repo(&e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_above_ascii_become_question_marks() {
        let mut head = http::Request::new(()).into_parts().0;
        head.headers.insert(
            USER_AGENT,
            HeaderValue::from_bytes(b"caf\xe9 \xff/1.0").unwrap(),
        );
        assert_eq!(text(&head, &USER_AGENT).as_deref(), Some("caf? ?/1.0"));
    }
}
