//! The `{code}` segment that a link's routes (`/{code}`, `/api/v1/links/{code}`) share.

use bytes::Bytes;
use domain::ShortCode;
use http::Response;
use http::request::Parts;

use crate::api::problem::Problem;

/// The code the path names: its last segment, as sent (a short code has nothing to decode).
/// `None` when the segment can't be one, which the route answers with [`not_found`] without a
/// lookup, so scanners and typos never reach the store.
pub(crate) fn code(head: &Parts) -> Option<ShortCode> {
    let segment = head.uri.path().rsplit('/').next()?;
    ShortCode::parse(segment).ok()
}

/// The answer for a code that names no link.
pub(crate) fn not_found() -> Response<Bytes> {
    Problem::not_found("no link has this short code").into_response()
}
