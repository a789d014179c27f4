//! The credential a request carries, and who that makes its caller. Only extraction lives
//! here: what a caller may do is the use cases' decision (see `application::Links`).

use application::ports::Budget;
use application::use_cases::AuthError;
use domain::Caller;
use tide::http::headers::{AUTHORIZATION, HeaderName};
use tide::utils::async_trait;
use tide::{Middleware, Next, Request, Response, StatusCode};

use crate::client_ip::client_ip;
use crate::problem::Problem;
use crate::rate_limits::too_many;
use crate::state::State;

const API_KEY: &str = "x-api-key";

/// On every route that isn't public (see `routes::Endpoint::is_public`): finds who the caller
/// is, for the handler to read with [`caller_of`], or answers 401 (503 when the key store
/// can't answer) before the handler runs. A refused credential spends the route's budget of
/// the client's address, so that guessing keys is limited like any other request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticate(pub(crate) Option<Budget>);

#[async_trait]
impl Middleware<State> for Authenticate {
    async fn handle(&self, mut req: Request<State>, next: Next<'_, State>) -> tide::Result {
        match caller(&req).await {
            Ok(caller) => {
                req.set_ext(caller);
                Ok(next.run(req).await)
            }
            Err(refused) => {
                let Some(budget) = self.0 else {
                    return Ok(refused);
                };
                let links = &req.state().links;
                Ok(
                    match links.admit(budget, Caller::Anonymous, client_ip(&req)) {
                        Err(throttled) => too_many(budget, throttled),
                        Ok(_) => refused,
                    },
                )
            }
        }
    }
}

/// Who [`Authenticate`] found the caller to be.
pub(crate) fn caller_of(req: &Request<State>) -> Caller {
    req.ext::<Caller>().copied().unwrap_or(Caller::Anonymous)
}

/// The caller the request's credential makes, or the 401 (or 503, when the key store can't
/// answer) to give instead.
async fn caller(req: &Request<State>) -> Result<Caller, Response> {
    let presented = credential(req).map_err(|detail| unauthorized(detail, Token::Invalid))?;
    req.state()
        .links
        .authenticate(presented)
        .await
        .map_err(|e| match e {
            AuthError::Store(repo) => Problem::from_repo(&repo).into(),
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
pub(crate) fn unauthorized(detail: impl Into<String>, token: Token) -> Response {
    let mut res: Response = Problem::new(
        StatusCode::Unauthorized,
        "unauthorized",
        "Unauthorized",
        detail,
    )
    .into();
    res.insert_header(
        "www-authenticate",
        match token {
            Token::Missing => "Bearer",
            Token::Invalid => r#"Bearer error="invalid_token""#,
        },
    );
    res
}

/// The key's text from `Authorization: Bearer <key>`, else from `X-Api-Key: <key>`; `None`
/// when the request carries neither. A header that is there but unusable is an error, never
/// read as no credential.
fn credential(req: &Request<State>) -> Result<Option<String>, &'static str> {
    if let Some(value) = single(req, AUTHORIZATION)? {
        let (scheme, token) = value
            .split_once(' ')
            .ok_or("the Authorization header must be `Bearer <API key>`")?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err("the Authorization header must use the Bearer scheme");
        }
        return Ok(Some(token.trim().to_owned()));
    }
    Ok(single(req, API_KEY.into())?.map(|value| value.trim().to_owned()))
}

/// A header's one value; two of the same credential header could be read differently by a
/// proxy and by us.
fn single(req: &Request<State>, name: HeaderName) -> Result<Option<&str>, &'static str> {
    let Some(values) = req.header(&name) else {
        return Ok(None);
    };
    let mut each = values.iter();
    match (each.next(), each.next()) {
        (Some(value), None) => Ok(Some(value.as_str())),
        _ => Err("a request carries at most one credential header of each kind"),
    }
}
