use application::use_cases::ShortenError;
use domain::LongUrl;
use serde::{Deserialize, Serialize};
use tide::http::headers::LOCATION;
use tide::{Request, Response, StatusCode};

use crate::auth::{Token, caller_of, unauthorized};
use crate::body;
use crate::problem::Problem;
use crate::state::State;

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

/// `POST /api/v1/urls`: 201 with the new link, `Location` pointing at its resource.
pub(crate) async fn shorten(mut req: Request<State>) -> tide::Result {
    Ok(match handle(&mut req).await {
        Ok(res) | Err(res) => res,
    })
}

async fn handle(req: &mut Request<State>) -> Result<Response, Response> {
    let caller = caller_of(req);
    let input: ShortenRequest = body::json(req).await?;
    let url = LongUrl::parse(&input.original_url)
        .map_err(|e| Problem::bad_request("invalid-url", e.to_string()))?;
    let state = req.state();
    let link = state
        .links
        .shorten(caller, url)
        .await
        .map_err(|e| match &e {
            ShortenError::Unauthenticated => unauthorized(e.to_string(), Token::Missing),
            ShortenError::Refused(reason) => {
                Problem::bad_request("url-not-allowed", reason.to_string()).into()
            }
            ShortenError::Repo(repo) => Problem::from_repo(repo).into(),
            ShortenError::NoFreeCode { .. } => Problem::internal(&e).into(),
        })?;
    let body = ShortenResponse {
        short_code: link.code.as_str(),
        short_url: state.short_url(link.code),
        original_url: link.url.as_str(),
    };
    Ok(Response::builder(StatusCode::Created)
        .header(LOCATION, state.link_url(link.code))
        .body(tide::Body::from_json(&body).map_err(|e| Problem::internal(&e))?)
        .build())
}
