//! The credential a request carries, and who that makes its caller. Only extraction lives
//! here: what a caller may do is the use cases' decision (see `application::Links`).

use std::net::IpAddr;

use application::use_cases::AuthError;
use bytes::Bytes;
use domain::Caller;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{Response, StatusCode};

use crate::api::Api;
use crate::api::problem::Problem;
use crate::api::rate_limits::too_many;
use crate::api::routes::Endpoint;

const API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// On every route that isn't public: who the caller is, or the 401 (503 when the key store
/// can't answer) to give before the handler runs. A refused credential spends the route's
/// budget of the client's address, so that guessing keys is limited like any other request.
pub(super) async fn authenticate(
    api: &Api,
    endpoint: Endpoint,
    head: &Parts,
    client: Option<IpAddr>,
) -> Result<Caller, Response<Bytes>> {
    let refused = match caller(api, head).await {
        Ok(caller) => return Ok(caller),
        Err(refused) => refused,
    };
    Err(match endpoint.budget() {
        Some(budget) => match api.links.admit(budget, Caller::Anonymous, client) {
            Err(throttled) => too_many(budget, throttled),
            Ok(_) => refused,
        },
        None => refused,
    })
}

/// The caller the request's credential makes, or the 401 (or 503, when the key store can't
/// answer) to give instead.
async fn caller(api: &Api, head: &Parts) -> Result<Caller, Response<Bytes>> {
    let presented = credential(head).map_err(|detail| unauthorized(detail, Token::Invalid))?;
    api.links
        .authenticate(presented)
        .await
        .map_err(|e| match e {
            AuthError::Store(repo) => Problem::from_repo(&repo).into_response(),
            refused => unauthorized(refused.to_string(), Token::Invalid),
        })
}

/// Whether a token was presented and refused, which RFC 6750 §3.1 names `invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Missing,
    Invalid,
}

/// 401 problem+json with the `WWW-Authenticate` challenge of RFC 6750.
pub(crate) fn unauthorized(detail: impl Into<String>, token: Token) -> Response<Bytes> {
    let mut res = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        detail,
    )
    .into_response();
    res.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(match token {
            Token::Missing => "Bearer",
            Token::Invalid => r#"Bearer error="invalid_token""#,
        }),
    );
    res
}

/// The key's text from `Authorization: Bearer <key>`, else from `X-Api-Key: <key>`; `None`
/// when the request carries neither. A header that is there but unusable is an error, never
/// read as no credential.
fn credential(head: &Parts) -> Result<Option<String>, &'static str> {
    if let Some(value) = single(head, &AUTHORIZATION)? {
        let (scheme, token) = value
            .split_once(' ')
            .ok_or("the Authorization header must be `Bearer <API key>`")?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err("the Authorization header must use the Bearer scheme");
        }
        return Ok(Some(token.trim().to_owned()));
    }
    Ok(single(head, &API_KEY)?.map(|value| value.trim().to_owned()))
}

/// A header's one value; two of the same credential header could be read differently by a
/// proxy and by us. A key is ASCII: a value that isn't can be no key.
fn single<'a>(head: &'a Parts, name: &HeaderName) -> Result<Option<&'a str>, &'static str> {
    let mut each = head.headers.get_all(name).iter();
    match (each.next(), each.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(Some)
            .map_err(|_| "a credential header must be ASCII text"),
        _ => Err("a request carries at most one credential header of each kind"),
    }
}
