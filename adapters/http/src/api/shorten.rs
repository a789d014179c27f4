//! `POST /api/v1/urls`.

use std::future::Future;

use application::use_cases::ShortenError;
use bytes::Bytes;
use domain::{Caller, LongUrl};
use http::header::{HeaderValue, LOCATION};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::api::Api;
use crate::api::auth::{Token, unauthorized};
use crate::api::body::{self, BoxError};
use crate::api::links::json_with;
use crate::api::problem::Problem;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShortenRequest {
    original_url: String,
}

#[derive(Serialize)]
struct ShortenResponse<'a> {
    short_code: &'a str,
    short_url: String,
    original_url: &'a str,
}

/// 201 with the new link, `Location` pointing at its resource.
pub(super) async fn shorten<B>(api: &Api, caller: Caller, head: &Parts, body: B) -> Response<Bytes>
where
    B: Future<Output = Result<Bytes, BoxError>>,
{
    match handle(api, caller, head, body).await {
        Ok(res) | Err(res) => res,
    }
}

async fn handle<B>(
    api: &Api,
    caller: Caller,
    head: &Parts,
    body: B,
) -> Result<Response<Bytes>, Response<Bytes>>
where
    B: Future<Output = Result<Bytes, BoxError>>,
{
    let limit = api.settings.limits.max_body_bytes;
    let input: ShortenRequest = body::json(head, body, limit)
        .await
        .map_err(Problem::into_response)?;
    let url = LongUrl::parse(&input.original_url)
        .map_err(|e| Problem::bad_request("invalid-url", e.to_string()).into_response())?;
    let link = api.links.shorten(caller, url).await.map_err(|e| match &e {
        ShortenError::Unauthenticated => unauthorized(e.to_string(), Token::Missing),
        ShortenError::Refused(reason) => {
            Problem::bad_request("url-not-allowed", reason.to_string()).into_response()
        }
        ShortenError::Repo(repo) => Problem::from_repo(repo).into_response(),
        ShortenError::NoFreeCode { .. } => Problem::internal(&e).into_response(),
    })?;
    let mut res = json_with(
        StatusCode::CREATED,
        &ShortenResponse {
            short_code: link.code.as_str(),
            short_url: api.short_url(link.code),
            original_url: link.url.as_str(),
        },
    );
    if let Ok(location) = HeaderValue::try_from(api.link_url(link.code)) {
        res.headers_mut().insert(LOCATION, location);
    }
    Ok(res)
}
