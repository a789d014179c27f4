//! Malformed calls are answered here, before the guards see them. tonic answers a body that is
//! not one well-formed request message (a protobuf that doesn't decode, a frame cut short, no
//! message at all) with INTERNAL, which a breaker counts as the server failing: anyone could
//! then open the breaker for every caller by sending garbage. Here such a call gets
//! INVALID_ARGUMENT, naming what is wrong, and the guards only ever see well-formed calls.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tonic::Status;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::methods::{self, Decodes};

/// The largest request message taken (the largest real one is a few dozen bytes).
const MAX_MESSAGE: usize = 64 * 1024;
/// A gRPC message's frame header: a compressed-flag byte and a four-byte length.
const HEADER: usize = 5;

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

#[derive(Debug, Clone, Copy)]
pub(crate) struct WellFormedLayer {
    /// How long a request message may take to arrive: the call's own timeout runs later, so
    /// without this a caller could hold a call open by never finishing its body.
    read_timeout: Duration,
}

impl WellFormedLayer {
    pub(crate) fn new(read_timeout: Duration) -> Self {
        Self { read_timeout }
    }
}

impl<S> Layer<S> for WellFormedLayer {
    type Service = WellFormed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WellFormed {
            inner,
            read_timeout: self.read_timeout,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WellFormed<S> {
    inner: S,
    read_timeout: Duration,
}

impl<S> Service<Request<Body>> for WellFormed<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(decodes) = methods::find(req.uri().path()).and_then(|m| m.decodes) else {
            // Unknown paths get tonic's UNIMPLEMENTED; streams are checked by their services.
            return Box::pin(self.inner.call(req));
        };
        // The service that was polled ready is the one to call, after the body has arrived.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let read_timeout = self.read_timeout;
        Box::pin(async move {
            match checked(req, decodes, read_timeout).await {
                Ok(req) => inner.call(req).await,
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

/// The request with its body read and checked, or the status to answer with.
async fn checked(
    req: Request<Body>,
    decodes: Decodes,
    read_timeout: Duration,
) -> Result<Request<Body>, Status> {
    if let Some(encoding) = req
        .headers()
        .get("grpc-encoding")
        .filter(|e| e.as_bytes() != b"identity")
    {
        // gRPC's answer to a compression the server doesn't take.
        return Err(Status::unimplemented(format!(
            "grpc-encoding {} is not supported; send the message uncompressed",
            String::from_utf8_lossy(encoding.as_bytes())
        )));
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, HEADER + MAX_MESSAGE).collect();
    let bytes = match tokio::time::timeout(read_timeout, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            return Err(Status::invalid_argument(format!(
                "the request message is larger than {MAX_MESSAGE} bytes"
            )));
        }
        Ok(Err(e)) => return Err(Status::cancelled(format!("the request broke off: {e}"))),
        Err(_) => {
            return Err(Status::deadline_exceeded(format!(
                "the request message did not arrive within {} ms",
                read_timeout.as_millis()
            )));
        }
    };
    one_message(&bytes, decodes)?;
    // Unary requests carry no trailers; the checked bytes are handed on as the whole body.
    Ok(Request::from_parts(parts, Body::new(Full::new(bytes))))
}

/// The body is exactly one uncompressed message that decodes as the method's request.
fn one_message(body: &[u8], decodes: Decodes) -> Result<(), Status> {
    let Some((&[flag, l0, l1, l2, l3], message)) = body.split_first_chunk::<HEADER>() else {
        return Err(Status::invalid_argument(if body.is_empty() {
            "the call carries no request message"
        } else {
            "the request message's frame is cut short"
        }));
    };
    match flag {
        0 => {}
        // gRPC says INTERNAL for this one.
        1 => {
            return Err(Status::internal(
                "protocol error: a compressed message without a grpc-encoding",
            ));
        }
        other => {
            return Err(Status::invalid_argument(format!(
                "the message's compressed-flag is {other}; it must be 0"
            )));
        }
    }
    let declared = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    if message.len() < declared {
        return Err(Status::invalid_argument(format!(
            "the request message is cut short: {} of {declared} bytes",
            message.len()
        )));
    }
    if message.len() > declared {
        return Err(Status::invalid_argument(
            "the call carries more than one request message",
        ));
    }
    decodes(message).map_err(|e| {
        Status::invalid_argument(format!(
            "the request is not a well-formed message of this method: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use prost::Message;
    use rstest::rstest;
    use tonic::Code;
    use tower_service::Service;

    use super::*;
    use crate::proto::GetClickCountRequest;

    const COUNT: &str = "/analytics.v1.Analytics/GetClickCount";

    fn framed(flag: u8, message: &[u8]) -> Vec<u8> {
        let mut body = vec![flag];
        body.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
        body.extend(message);
        body
    }

    fn valid() -> Vec<u8> {
        GetClickCountRequest {
            short_code: "abcDEF12".into(),
        }
        .encode_to_vec()
    }

    /// A service that answers OK and reports the body it was handed.
    #[derive(Clone)]
    struct Echo;

    impl Service<Request<Body>> for Echo {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = BoxFuture<Response<Body>, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: Request<Body>) -> Self::Future {
            Box::pin(async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                Ok(Response::new(Body::new(Full::new(body))))
            })
        }
    }

    async fn call(path: &str, body: Vec<u8>, encoding: Option<&str>) -> Response<Body> {
        let mut req = Request::builder().uri(path);
        if let Some(encoding) = encoding {
            req = req.header("grpc-encoding", encoding);
        }
        let req = req.body(Body::new(Full::new(Bytes::from(body)))).unwrap();
        WellFormedLayer::new(Duration::from_secs(5))
            .layer(Echo)
            .call(req)
            .await
            .unwrap()
    }

    fn code(res: &Response<Body>) -> Code {
        Status::from_header_map(res.headers()).map_or(Code::Ok, |s| s.code())
    }

    #[rstest]
    #[case::no_message(vec![], Code::InvalidArgument)]
    #[case::a_cut_header(vec![0, 0, 0], Code::InvalidArgument)]
    #[case::a_cut_message(framed(0, &valid())[..8].to_vec(), Code::InvalidArgument)]
    #[case::two_messages([framed(0, &valid()), framed(0, &valid())].concat(), Code::InvalidArgument)]
    #[case::not_protobuf(framed(0, b"\xff\xff\xff\xff"), Code::InvalidArgument)]
    #[case::not_utf8(framed(0, b"\x0a\x02\xc3\x28"), Code::InvalidArgument)]
    #[case::a_bad_flag(framed(7, &valid()), Code::InvalidArgument)]
    #[case::compressed_without_encoding(framed(1, &valid()), Code::Internal)]
    #[case::too_large(framed(0, &vec![0; MAX_MESSAGE + 1]), Code::InvalidArgument)]
    #[tokio::test]
    async fn a_malformed_request_is_answered_here(#[case] body: Vec<u8>, #[case] expected: Code) {
        assert_eq!(code(&call(COUNT, body, None).await), expected);
    }

    #[tokio::test]
    async fn an_unsupported_compression_is_unimplemented() {
        let res = call(COUNT, framed(1, &valid()), Some("gzip")).await;
        assert_eq!(code(&res), Code::Unimplemented);
    }

    #[rstest]
    #[case::a_valid_request(COUNT, framed(0, &valid()))]
    #[case::an_empty_message(COUNT, framed(0, b""))]
    #[case::identity_encoding(COUNT, framed(0, &valid()))]
    // Unknown paths and streams are left to tonic and the services.
    #[case::an_unknown_path("/analytics.v1.Analytics/Nope", b"junk".to_vec())]
    #[case::a_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", b"junk".to_vec())]
    #[tokio::test]
    async fn anything_else_is_passed_on_unchanged(#[case] path: &str, #[case] body: Vec<u8>) {
        let res = call(path, body.clone(), Some("identity")).await;
        assert_eq!(code(&res), Code::Ok);
        let passed = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(passed, body);
    }
}
