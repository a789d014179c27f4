//! The shared secret between url-api and analytics-rpc (`ANALYTICS_RPC_TOKEN`): a bearer token
//! in each Analytics call's metadata. Health and reflection stay open, so probes and grpcurl
//! work without it.

use std::fmt;

use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::{Request, Status};

/// The token; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcToken(String);

impl RpcToken {
    /// `None` for an empty value: no token, and Analytics calls are open.
    ///
    /// # Errors
    /// When the value can't travel in gRPC metadata (a control or non-ASCII character).
    pub fn new(value: &str) -> Result<Option<Self>, String> {
        if value.is_empty() {
            return Ok(None);
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces".into());
        }
        Ok(Some(Self(value.to_owned())))
    }

    /// Adds `authorization: Bearer <token>` to an outgoing call.
    pub(crate) fn attach(&self, metadata: &mut MetadataMap) {
        // Checked printable ASCII at construction, so always a valid value.
        if let Ok(value) = AsciiMetadataValue::try_from(format!("Bearer {}", self.0)) {
            metadata.insert("authorization", value);
        }
    }

    /// Whether a call presents this token. Compared in constant time, so that how long a
    /// refusal takes says nothing about how much of a guess was right.
    fn presented_by(&self, metadata: &MetadataMap) -> bool {
        let presented = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        let (a, b) = (presented.as_bytes(), self.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

impl fmt::Debug for RpcToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RpcToken(***)")
    }
}

/// The server's check, as a tonic interceptor on the Analytics service: UNAUTHENTICATED
/// without the token. No token configured: every call passes.
pub(crate) fn check(
    token: Option<RpcToken>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |request: Request<()>| match &token {
        Some(token) if !token.presented_by(request.metadata()) => Err(Status::unauthenticated(
            "this call needs the analytics token as `authorization: Bearer <token>`",
        )),
        _ => Ok(request),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rstest::rstest;

    use super::*;

    fn token() -> RpcToken {
        RpcToken::new("s3cret-token").unwrap().unwrap()
    }

    fn call(authorization: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(value) = authorization {
            request
                .metadata_mut()
                .insert("authorization", value.parse().unwrap());
        }
        request
    }

    #[rstest]
    #[case(Some("Bearer s3cret-token"), true)]
    #[case(Some("Bearer s3cret-tokeN"), false)]
    #[case(Some("Bearer s3cret-token2"), false)]
    #[case(Some("Basic s3cret-token"), false)]
    #[case(Some("s3cret-token"), false)]
    #[case(None, false)]
    fn calls_pass_only_with_the_token(#[case] authorization: Option<&str>, #[case] passes: bool) {
        let result = check(Some(token()))(call(authorization));
        assert_eq!(result.is_ok(), passes);
        if let Err(status) = result {
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
    }

    #[test]
    fn without_a_token_every_call_passes() {
        assert!(check(None)(call(None)).is_ok());
    }

    #[test]
    fn the_client_sends_what_the_server_checks() {
        let mut request = Request::new(());
        token().attach(request.metadata_mut());
        assert!(check(Some(token()))(request).is_ok());
    }

    #[rstest]
    #[case("", Ok(false))]
    #[case("abc", Ok(true))]
    #[case("a b", Err(()))]
    #[case("tok\u{e9}n", Err(()))]
    fn a_token_is_printable_ascii(#[case] value: &str, #[case] made: Result<bool, ()>) {
        assert_eq!(
            RpcToken::new(value).map(|t| t.is_some()).map_err(|_| ()),
            made
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert_eq!(format!("{:?}", token()), "RpcToken(***)");
    }
}
