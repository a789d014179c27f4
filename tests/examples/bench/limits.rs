//! The two ceilings, each a process of its own (`bench serve hyper|tide`) answering every
//! request with the same 302 url-api gives, and nothing else: hyper's is what this machine can
//! do at all, tide's what our HTTP framework can.

use std::convert::Infallible;

use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

const LOCATION: &str = "https://example.com/";

/// Serves forever on a free loopback port, after printing it on stdout.
pub(crate) fn serve(framework: &str) {
    match framework {
        "hyper" => serve_hyper(),
        "tide" => serve_tide(),
        other => panic!("no limit server for {other}: hyper or tide"),
    }
}

fn serve_hyper() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        announce(listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(302)
                            .header("location", LOCATION)
                            .header("cache-control", "private, max-age=0")
                            .body(Empty::<Bytes>::new())
                            .unwrap(),
                    )
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
}

fn serve_tide() {
    async_std::task::block_on(async {
        let mut app = tide::new();
        app.at("/*").get(|_| async {
            Ok(tide::Response::builder(302)
                .header("location", LOCATION)
                .header("cache-control", "private, max-age=0")
                .build())
        });
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        announce(listener.local_addr().unwrap());
        let mut incoming = listener.incoming();
        while let Some(stream) = futures::StreamExt::next(&mut incoming).await {
            let Ok(stream) = stream else { continue };
            let app = app.clone();
            async_std::task::spawn(async move {
                let addr = stream.peer_addr().ok();
                let _ = async_h1::accept(stream, |mut req| {
                    req.set_peer_addr(addr);
                    let app = app.clone();
                    async move { app.respond(req).await }
                })
                .await;
            });
        }
    });
}

fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout();
    writeln!(out, "{addr}").and_then(|()| out.flush()).unwrap();
}
