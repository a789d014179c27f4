//! tide: its router, built from the route table, behind hyper through [`super::tide_bridge`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Body;
use tide::{Next, StatusCode};
use tower_service::Service;

use super::tide_bridge::{self, Head};
use crate::api::problem::{Problem, unrouted};
use crate::api::routes::{Endpoint, ROUTES};
use crate::api::{Api, BoxError};

/// The API as a tower service, answered by tide's router.
pub(crate) fn service(api: Api) -> TideService {
    let mut app = tide::with_state(api);
    app.with(answer_unrouted);
    for route in &ROUTES {
        let endpoint = route.endpoint;
        let Ok(method) = route.method.as_str().parse() else {
            continue;
        };
        app.at(route.pattern)
            .method(method, move |req| handle(endpoint, req));
    }
    TideService { app }
}

#[derive(Clone)]
pub(crate) struct TideService {
    app: tide::Server<Api>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<B> Service<Request<B>> for TideService
where
    B: Body<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let app = self.app.clone();
        Box::pin(async move {
            let req = match tide_bridge::request(req) {
                Ok(req) => req,
                Err(refused) => return Ok((*refused).map(Full::new)),
            };
            Ok(match app.respond(req).await {
                Ok(res) => tide_bridge::response(res).await,
                Err(e) => Problem::internal(&e).into_response().map(Full::new),
            })
        })
    }
}

async fn handle(endpoint: Endpoint, mut req: tide::Request<Api>) -> tide::Result {
    let body = req.take_body();
    let Some(Head(head)) = req.ext::<Head>() else {
        return Ok(tide_bridge::to_tide(
            Problem::internal(&"a request reached tide without its head").into_response(),
        ));
    };
    let read = async move {
        body.into_bytes()
            .await
            .map(Bytes::from)
            // The reader's own error (with the body limit's inside) is an io::Error.
            .map_err(|e| match e.downcast::<std::io::Error>() {
                Ok(io) => BoxError::from(io),
                Err(e) => BoxError::from(e.to_string()),
            })
    };
    let res = req.state().answer(endpoint, head, read).await;
    Ok(tide_bridge::to_tide(res))
}

/// tide's router answers a path no route takes (404) and a method the route doesn't (405)
/// with an empty body; they get the API's own answer instead.
fn answer_unrouted<'a>(
    req: tide::Request<Api>,
    next: Next<'a, Api>,
) -> Pin<Box<dyn Future<Output = tide::Result> + Send + 'a>> {
    Box::pin(async move {
        let path = req
            .ext::<Head>()
            .map(|Head(head)| head.uri.path().to_owned())
            .unwrap_or_default();
        let res = next.run(req).await;
        let unanswered = matches!(
            res.status(),
            StatusCode::NotFound | StatusCode::MethodNotAllowed
        ) && res.is_empty() != Some(false);
        Ok(if unanswered {
            tide_bridge::to_tide(unrouted(&path))
        } else {
            res
        })
    })
}
