//! `GET /api/v1/links`, and `GET` / `DELETE /api/v1/links/{code}`.

use application::use_cases::{DeleteLinkError, LinkDetailError, ListLinksError};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::Link;
use serde::Serialize;
use tide::{Request, Response, StatusCode};

use crate::auth::{Token, caller_of, unauthorized};
use crate::link_path::{code, not_found};
use crate::problem::Problem;
use crate::query;
use crate::state::State;

#[derive(Serialize)]
struct LinkSummary<'a> {
    short_code: &'a str,
    original_url: &'a str,
    created_at: String,
}

impl<'a> From<&'a Link> for LinkSummary<'a> {
    fn from(link: &'a Link) -> Self {
        Self {
            short_code: link.code.as_str(),
            original_url: link.url.as_str(),
            created_at: rfc3339(link.created_at),
        }
    }
}

#[derive(Serialize)]
struct LinkList<'a> {
    links: Vec<LinkSummary<'a>>,
    page: u32,
    per_page: u32,
    total_pages: u64,
    total_count: u64,
}

#[derive(Serialize)]
struct LinkDetailBody<'a> {
    #[serde(flatten)]
    link: LinkSummary<'a>,
    total_clicks: Option<u64>,
}

pub(crate) async fn list(req: Request<State>) -> tide::Result {
    let caller = caller_of(&req);
    let query = match query::link_query(req.url().query()) {
        Ok(query) => query,
        Err(problem) => return Ok(problem.into()),
    };
    let page = query.page;
    Ok(match req.state().links.list(caller, query).await {
        Ok(found) => json(&LinkList {
            links: found.links.iter().map(LinkSummary::from).collect(),
            page: page.number(),
            per_page: page.size(),
            total_pages: page.count_pages(found.total_count),
            total_count: found.total_count,
        }),
        Err(e @ ListLinksError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(ListLinksError::Repo(e)) => Problem::from_repo(&e).into(),
    })
}

pub(crate) async fn detail(req: Request<State>) -> tide::Result {
    let caller = caller_of(&req);
    let Some(code) = code(&req) else {
        return Ok(not_found());
    };
    Ok(match req.state().links.detail(caller, code).await {
        Ok(detail) => json(&LinkDetailBody {
            link: LinkSummary::from(&detail.link),
            total_clicks: detail.total_clicks,
        }),
        Err(e @ LinkDetailError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(LinkDetailError::NotFound) => not_found(),
        Err(LinkDetailError::Repo(e)) => Problem::from_repo(&e).into(),
    })
}

pub(crate) async fn delete(req: Request<State>) -> tide::Result {
    let caller = caller_of(&req);
    let Some(code) = code(&req) else {
        return Ok(not_found());
    };
    Ok(match req.state().links.delete(caller, code).await {
        Ok(()) => Response::new(StatusCode::NoContent),
        Err(e @ DeleteLinkError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(DeleteLinkError::NotFound) => not_found(),
        Err(DeleteLinkError::Repo(e)) => Problem::from_repo(&e).into(),
    })
}

fn json(body: &impl Serialize) -> Response {
    match tide::Body::from_json(body) {
        Ok(body) => Response::builder(StatusCode::Ok).body(body).build(),
        Err(e) => Problem::internal(&e).into(),
    }
}

/// RFC 3339 in UTC with a `Z`, to the microsecond the database keeps.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}
