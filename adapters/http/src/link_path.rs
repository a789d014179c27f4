//! The `:code` segment that a link's routes (`/{code}`, `/api/v1/links/{code}`) share.

use domain::ShortCode;
use tide::{Request, Response};

use crate::problem::Problem;
use crate::state::State;

/// The code the path names; `None` when the segment can't be one, which the route answers
/// with [`not_found`] without a lookup, so scanners and typos never reach the store.
pub(crate) fn code(req: &Request<State>) -> Option<ShortCode> {
    req.param("code")
        .ok()
        .and_then(|c| ShortCode::parse(c).ok())
}

/// The answer for a code that names no link.
pub(crate) fn not_found() -> Response {
    Problem::not_found("no link has this short code").into()
}
