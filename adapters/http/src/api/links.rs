//! `GET /api/v1/links`, and `GET` / `DELETE /api/v1/links/{code}`.

use application::use_cases::{DeleteLinkError, LinkDetailError, ListLinksError};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::{Caller, Link};
use http::header::{CONTENT_TYPE, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Serialize;

use crate::api::Api;
use crate::api::auth::{Token, unauthorized};
use crate::api::link_path::{code, not_found};
use crate::api::problem::Problem;
use crate::api::query;

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

pub(super) async fn list(api: &Api, caller: Caller, head: &Parts) -> Response<Bytes> {
    let query = match query::link_query(head.uri.query()) {
        Ok(query) => query,
        Err(problem) => return problem.into_response(),
    };
    let page = query.page;
    match api.links.list(caller, query).await {
        Ok(found) => json(&LinkList {
            links: found.links.iter().map(LinkSummary::from).collect(),
            page: page.number(),
            per_page: page.size(),
            total_pages: page.count_pages(found.total_count),
            total_count: found.total_count,
        }),
        Err(e @ ListLinksError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(ListLinksError::Repo(e)) => Problem::from_repo(&e).into_response(),
    }
}

pub(super) async fn detail(api: &Api, caller: Caller, head: &Parts) -> Response<Bytes> {
    let Some(code) = code(head) else {
        return not_found();
    };
    match api.links.detail(caller, code).await {
        Ok(detail) => json(&LinkDetailBody {
            link: LinkSummary::from(&detail.link),
            total_clicks: detail.total_clicks,
        }),
        Err(e @ LinkDetailError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(LinkDetailError::NotFound) => not_found(),
        Err(LinkDetailError::Repo(e)) => Problem::from_repo(&e).into_response(),
    }
}

pub(super) async fn delete(api: &Api, caller: Caller, head: &Parts) -> Response<Bytes> {
    let Some(code) = code(head) else {
        return not_found();
    };
    match api.links.delete(caller, code).await {
        Ok(()) => {
            let mut res = Response::new(Bytes::new());
            *res.status_mut() = StatusCode::NO_CONTENT;
            res
        }
        Err(e @ DeleteLinkError::Unauthenticated) => unauthorized(e.to_string(), Token::Missing),
        Err(DeleteLinkError::NotFound) => not_found(),
        Err(DeleteLinkError::Repo(e)) => Problem::from_repo(&e).into_response(),
    }
}

/// 200 with `body` as JSON (`status` for another success).
pub(crate) fn json(body: &impl Serialize) -> Response<Bytes> {
    json_with(StatusCode::OK, body)
}

pub(crate) fn json_with(status: StatusCode, body: &impl Serialize) -> Response<Bytes> {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut res = Response::new(Bytes::from(bytes));
            *res.status_mut() = status;
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => Problem::internal(&e).into_response(),
    }
}

/// RFC 3339 in UTC with a `Z`, to the microsecond the database keeps.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}
