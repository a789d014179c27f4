//! The HTTP mapping, driven through the whole pipeline without a socket, over a mocked `Links`
//! port: status codes, headers and problem bodies for every outcome a use case can have, on
//! each engine.

use std::sync::Arc;
use std::time::Duration;

use application::MockLinks;
use application::ports::{Allowance, Budget, LinkPage, Quota, RepoError, Throttled};
use application::use_cases::{
    AuthError, DeleteLinkError, LinkDetail, LinkDetailError, ListLinksError, RedirectError,
    ShortenError,
};
use bytes::Bytes;
use chrono::DateTime;
use domain::{Caller, KeyError, KeyId, Link, LongUrl, PolicyError, Role, ShortCode};
use http::header::{CONTENT_TYPE, HOST};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use rstest::rstest;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::api::{Api, Peer};
use crate::server::pipeline::guarded;
use crate::{ClientTimeouts, Engine, HttpSettings, RequestLimits};

pub(crate) fn settings() -> HttpSettings {
    HttpSettings {
        base_url: "http://sho.rt/".into(),
        trusted_proxies: 0,
        limits: RequestLimits {
            max_conns: 100,
            shed_above_cpu: None,
            timeout: Duration::from_secs(5),
            max_body_bytes: 1024,
        },
        client_timeouts: ClientTimeouts {
            header: Duration::from_secs(5),
            idle: Duration::from_secs(5),
        },
        drain_timeout: Duration::from_secs(1),
        engine: Engine::Tide,
    }
}

fn link(code: &str) -> Link {
    Link {
        code: ShortCode::parse(code).unwrap(),
        url: LongUrl::parse("https://example.com/a").unwrap(),
        created_at: DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        owner: Some(KeyId(1)),
    }
}

/// The caller every request of [`call`] authenticates as, unless a test expects otherwise.
const ADMIN: Caller = Caller::Key {
    id: KeyId(1),
    role: Role::Admin,
};
const KEY: &str = "sk_test";

/// A request to build: its head, and a body with its content type.
struct Req {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(&'static str, String)>,
}

fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> Req {
    Req {
        method,
        path: path.to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        body: None,
    }
}

/// A request carrying `Authorization: Bearer sk_test`, which the mock takes for an admin's key
/// unless the test set its own expectation first (mockall tries expectations in order).
async fn call(
    engine: Engine,
    mut links: MockLinks,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Res {
    links.expect_authenticate().returning(|_| Ok(ADMIN));
    let req = request(method, path, &[("authorization", &format!("Bearer {KEY}"))]);
    send(engine, links, req, body).await
}

/// The request as it arrives from 198.51.100.7, with `body` as JSON; the mock admits it
/// unlimited unless the test set its own expectation first.
async fn send(engine: Engine, mut links: MockLinks, mut req: Req, body: Option<&str>) -> Res {
    links.expect_admit().returning(|_, _, _| Ok(None));
    if let Some(body) = body {
        req.body = Some(("application/json", body.to_owned()));
    }
    respond(engine, links, req).await
}

async fn respond(engine: Engine, links: MockLinks, req: Req) -> Res {
    let mut builder = http::Request::builder()
        .method(req.method)
        .uri(req.path)
        .header(HOST, "sho.rt");
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    let body = match req.body {
        Some((content_type, body)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            Full::new(Bytes::from(body))
        }
        None => Full::new(Bytes::new()),
    };
    let mut req = builder.body(body).unwrap();
    req.extensions_mut()
        .insert(Peer("198.51.100.7:5555".parse().unwrap()));
    let settings = HttpSettings {
        engine,
        ..settings()
    };
    let api = Api::new(Arc::new(links), settings.clone());
    let (head, body) = match engine {
        Engine::Tide => {
            let service = guarded(crate::engine::tide::service(api), &settings);
            let (head, body) = service.oneshot(req).await.unwrap().into_parts();
            (head, body.collect().await.unwrap().to_bytes())
        }
        Engine::Axum => {
            let service = guarded(crate::engine::axum::service(api), &settings);
            let (head, body) = service.oneshot(req).await.unwrap().into_parts();
            (head, body.collect().await.unwrap().to_bytes())
        }
    };
    Res(http::Response::from_parts(head, body))
}

/// A response, read whole.
struct Res(http::Response<Bytes>);

impl Res {
    fn status(&self) -> StatusCode {
        self.0.status()
    }

    fn header(&self, name: &str) -> &str {
        self.0.headers()[name].to_str().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(self.0.body()).unwrap()
    }
}

fn problem(res: &Res) -> Value {
    assert_eq!(res.header("content-type"), "application/problem+json");
    res.json()
}

#[rstest]
#[tokio::test]
async fn shorten_answers_201_with_location(#[values(Engine::Tide, Engine::Axum)] engine: Engine) {
    let mut links = MockLinks::new();
    links
        .expect_shorten()
        .withf(|caller, url| *caller == ADMIN && url.as_str() == "https://example.com/a")
        .once()
        .returning(|_, _| Ok(link("abcDEF12")));

    let res = call(
        engine,
        links,
        Method::POST,
        "/api/v1/urls",
        Some(r#"{"original_url":"https://example.com/a"}"#),
    )
    .await;

    assert_eq!(res.status(), 201);
    assert_eq!(
        res.header("location"),
        "http://sho.rt/api/v1/links/abcDEF12"
    );
    let body: Value = res.json();
    assert_eq!(
        body,
        json!({"short_code": "abcDEF12", "short_url": "http://sho.rt/abcDEF12", "original_url": "https://example.com/a"})
    );
}

#[rstest]
#[case(
    r#"{"original_url":"javascript:alert(1)"}"#,
    "invalid-url",
    "the scheme 'javascript' is not allowed"
)]
#[case(
    r#"{"original_url":"example.com"}"#,
    "invalid-url",
    "the URL is not absolute"
)]
#[case(r#"{"original_url":"#, "malformed-json", "the body is not valid JSON")]
#[case(
    r"{}",
    "invalid-body",
    "the JSON body does not fit: missing field `original_url`"
)]
#[case(
    r#"{"original_url":1}"#,
    "invalid-body",
    "the JSON body does not fit: invalid type"
)]
#[case(
    r#"{"original_url":"https://a.b","alias":"x"}"#,
    "invalid-body",
    "the JSON body does not fit: unknown field `alias`"
)]
#[tokio::test]
async fn shorten_rejects_bad_input_with_400(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] body: &str,
    #[case] slug: &str,
    #[case] detail: &str,
) {
    let mut links = MockLinks::new();
    links.expect_shorten().never();

    let res = call(engine, links, Method::POST, "/api/v1/urls", Some(body)).await;

    assert_eq!(res.status(), 400);
    let problem = problem(&res);
    assert_eq!(problem["type"], format!("urn:shortener:problem:{slug}"));
    assert_eq!(problem["status"], 400);
    assert!(
        problem["detail"].as_str().unwrap().starts_with(detail),
        "{problem}"
    );
}

#[rstest]
#[tokio::test]
async fn shorten_refuses_bodies_over_the_limit_with_413(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_shorten().never();
    let body = format!(
        r#"{{"original_url":"https://example.com/{}"}}"#,
        "a".repeat(2000)
    );

    let res = call(engine, links, Method::POST, "/api/v1/urls", Some(&body)).await;

    assert_eq!(res.status(), 413);
    assert_eq!(problem(&res)["title"], "Payload Too Large");
}

#[rstest]
#[tokio::test]
async fn shorten_refuses_other_media_types_with_415(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_shorten().never();
    links.expect_authenticate().returning(|_| Ok(ADMIN));
    let mut req = request(Method::POST, "/api/v1/urls", &[]);
    req.body = Some((
        "application/x-www-form-urlencoded",
        "original_url=https://example.com".to_owned(),
    ));

    let res = send(engine, links, req, None).await;

    assert_eq!(res.status(), 415);
}

#[rstest]
#[case(ShortenError::Repo(RepoError::Unavailable("down".into())), 503)]
#[case(ShortenError::Repo(RepoError::CircuitOpen), 503)]
#[case(ShortenError::Repo(RepoError::Unexpected("bug".into())), 500)]
#[case(ShortenError::NoFreeCode { tries: 5 }, 500)]
#[tokio::test]
async fn shorten_maps_failures(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] error: ShortenError,
    #[case] status: u16,
) {
    let mut links = MockLinks::new();
    links
        .expect_shorten()
        .once()
        .return_once(move |_, _| Err(error));

    let res = call(
        engine,
        links,
        Method::POST,
        "/api/v1/urls",
        Some(r#"{"original_url":"https://a.b/"}"#),
    )
    .await;

    assert_eq!(u16::from(res.status()), status);
    let problem = problem(&res);
    // Internal details never leak to the client.
    assert!(!problem["detail"].as_str().unwrap().contains("bug"));
}

#[rstest]
#[tokio::test]
async fn shorten_refused_by_the_url_policy_is_400_with_the_reason(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_shorten().once().return_once(|_, _| {
        Err(ShortenError::Refused(PolicyError::BlockedDomain(
            "evil.example".into(),
        )))
    });

    let res = call(
        engine,
        links,
        Method::POST,
        "/api/v1/urls",
        Some(r#"{"original_url":"https://www.evil.example/"}"#),
    )
    .await;

    assert_eq!(res.status(), 400);
    let problem = problem(&res);
    assert_eq!(problem["type"], "urn:shortener:problem:url-not-allowed");
    assert_eq!(problem["detail"], "links to evil.example are blocked here");
}

#[rstest]
#[tokio::test]
async fn redirect_answers_302_uncached_and_passes_the_visit(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links
        .expect_redirect()
        .withf(|code, visit| {
            code.as_str() == "abcDEF12"
                && visit.ip == Some("198.51.100.7".parse().unwrap())
                && visit.user_agent.as_deref() == Some("curl/8")
        })
        .once()
        .returning(|_, _| Ok(LongUrl::parse("https://example.com/a").unwrap()));
    let req = request(Method::GET, "/abcDEF12", &[("user-agent", "curl/8")]);

    let res = send(engine, links, req, None).await;

    assert_eq!(res.status(), 302);
    assert_eq!(res.header("location"), "https://example.com/a");
    assert_eq!(res.header("cache-control"), "private, max-age=0");
}

#[rstest]
#[case("/abc")]
#[case("/abcDEF1-")]
#[case("/favicon.ico")]
#[case("/abcDEF123")]
#[tokio::test]
async fn redirect_of_an_impossible_code_is_404_without_a_lookup(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] path: &str,
) {
    let mut links = MockLinks::new();
    links.expect_redirect().never();

    let res = call(engine, links, Method::GET, path, None).await;

    assert_eq!(res.status(), 404);
    assert_eq!(problem(&res)["type"], "urn:shortener:problem:not-found");
}

#[rstest]
#[tokio::test]
async fn head_answers_like_a_redirect_without_a_click(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_redirect().never();
    links
        .expect_resolve()
        .withf(|code| code.as_str() == "abcDEF12")
        .once()
        .returning(|_| Ok(LongUrl::parse("https://example.com/a").unwrap()));

    let res = call(engine, links, Method::HEAD, "/abcDEF12", None).await;

    assert_eq!(res.status(), 302);
    assert_eq!(res.header("location"), "https://example.com/a");
    assert_eq!(res.header("cache-control"), "private, max-age=0");
}

#[rstest]
#[case("/abc", None)]
#[case("/abcDEF12", Some(RedirectError::NotFound))]
#[tokio::test]
async fn head_of_an_unknown_code_is_404(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] path: &str,
    #[case] error: Option<RedirectError>,
) {
    let mut links = MockLinks::new();
    links.expect_redirect().never();
    match error {
        Some(error) => {
            links
                .expect_resolve()
                .once()
                .return_once(move |_| Err(error));
        }
        None => {
            links.expect_resolve().never();
        }
    }

    let res = call(engine, links, Method::HEAD, path, None).await;

    assert_eq!(res.status(), 404);
}

#[rstest]
#[case(RedirectError::NotFound, 404)]
#[case(RedirectError::Repo(RepoError::Unavailable("down".into())), 503)]
#[case(RedirectError::Repo(RepoError::Rejected("value too long".into())), 400)]
#[tokio::test]
async fn redirect_maps_failures(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] error: RedirectError,
    #[case] status: u16,
) {
    let mut links = MockLinks::new();
    links
        .expect_redirect()
        .once()
        .return_once(move |_, _| Err(error));

    let res = call(engine, links, Method::GET, "/abcDEF12", None).await;

    assert_eq!(u16::from(res.status()), status);
}

#[rstest]
#[tokio::test]
async fn list_answers_a_page(#[values(Engine::Tide, Engine::Axum)] engine: Engine) {
    let mut links = MockLinks::new();
    links
        .expect_list()
        .withf(|caller, q| *caller == ADMIN && q.page.number() == 2 && q.page.size() == 1)
        .once()
        .returning(|_, _| {
            Ok(LinkPage {
                links: vec![link("abcDEF12")],
                total_count: 3,
            })
        });

    let res = call(
        engine,
        links,
        Method::GET,
        "/api/v1/links?page=2&per_page=1",
        None,
    )
    .await;

    assert_eq!(res.status(), 200);
    let body: Value = res.json();
    assert_eq!(
        body,
        json!({
            "links": [{"short_code": "abcDEF12", "original_url": "https://example.com/a", "created_at": "2023-11-14T22:13:20.123456Z"}],
            "page": 2, "per_page": 1, "total_pages": 3, "total_count": 3
        })
    );
}

#[rstest]
#[case("per_page=0", "per_page must be between 1 and 100")]
#[case("search=%00", "search must not contain control characters")]
#[case("search=rust%0Aweb", "search must not contain control characters")]
#[case("search=%FF", "'%FF' does not decode to UTF-8 text")]
#[tokio::test]
async fn list_rejects_bad_queries_without_asking_the_store(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] query: &str,
    #[case] detail: &str,
) {
    let mut links = MockLinks::new();
    links.expect_list().never();

    let res = call(
        engine,
        links,
        Method::GET,
        &format!("/api/v1/links?{query}"),
        None,
    )
    .await;

    assert_eq!(res.status(), 400);
    let problem = problem(&res);
    assert_eq!(problem["type"], "urn:shortener:problem:invalid-query");
    assert!(
        problem["detail"].as_str().unwrap().starts_with(detail),
        "{problem}"
    );
}

#[rstest]
#[tokio::test]
async fn input_the_store_refuses_is_the_callers_400_and_keeps_the_reason_private(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_list().once().returning(|_, _| {
        Err(ListLinksError::Repo(RepoError::Rejected(
            "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
        )))
    });

    let res = call(engine, links, Method::GET, "/api/v1/links?search=x", None).await;

    assert_eq!(res.status(), 400);
    let problem = problem(&res);
    assert_eq!(problem["type"], "urn:shortener:problem:unstorable-input");
    assert!(!problem["detail"].as_str().unwrap().contains("UTF8"));
}

#[rstest]
#[case(Some(42), json!(42))]
#[case(None, Value::Null)]
#[tokio::test]
async fn detail_shows_clicks_or_null(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] clicks: Option<u64>,
    #[case] shown: Value,
) {
    let mut links = MockLinks::new();
    links.expect_detail().once().returning(move |_, code| {
        Ok(LinkDetail {
            link: link(code.as_str()),
            total_clicks: clicks,
        })
    });

    let res = call(engine, links, Method::GET, "/api/v1/links/abcDEF12", None).await;

    assert_eq!(res.status(), 200);
    let body: Value = res.json();
    assert_eq!(body["short_code"], "abcDEF12");
    assert_eq!(body["created_at"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(body["total_clicks"], shown);
}

#[rstest]
#[tokio::test]
async fn detail_of_an_unknown_link_is_404(#[values(Engine::Tide, Engine::Axum)] engine: Engine) {
    let mut links = MockLinks::new();
    links
        .expect_detail()
        .once()
        .returning(|_, _| Err(LinkDetailError::NotFound));

    let res = call(engine, links, Method::GET, "/api/v1/links/abcDEF12", None).await;

    assert_eq!(res.status(), 404);
}

#[rstest]
#[tokio::test]
async fn delete_answers_204(#[values(Engine::Tide, Engine::Axum)] engine: Engine) {
    let mut links = MockLinks::new();
    links.expect_delete().once().returning(|_, _| Ok(()));

    let res = call(
        engine,
        links,
        Method::DELETE,
        "/api/v1/links/abcDEF12",
        None,
    )
    .await;

    assert_eq!(res.status(), 204);
}

#[rstest]
#[tokio::test]
async fn serves_its_openapi_document(#[values(Engine::Tide, Engine::Axum)] engine: Engine) {
    let res = call(
        engine,
        MockLinks::new(),
        Method::GET,
        "/api/v1/openapi.json",
        None,
    )
    .await;

    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-type"), "application/json");
    let document: Value = res.json();
    assert_eq!(document["info"]["title"], "shortener url-api");
}

#[rstest]
#[case(Method::PUT, "/api/v1/links/abcDEF12", "GET, DELETE, HEAD")]
#[case(Method::GET, "/api/v1/urls", "POST")]
#[case(Method::PATCH, "/abcDEF12", "GET, HEAD")]
#[tokio::test]
async fn a_method_the_path_does_not_take_is_405_saying_which_it_does(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] method: Method,
    #[case] path: &str,
    #[case] allowed: &str,
) {
    let res = call(engine, MockLinks::new(), method, path, None).await;

    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), allowed);
    assert_eq!(problem(&res)["status"], 405);
}

#[rstest]
#[case(Method::PUT, "/api/v1/links/abcDEF12", 405)]
#[case(Method::GET, "/api/v2/nothing", 404)]
#[tokio::test]
async fn unrouted_requests_get_problem_bodies(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] method: Method,
    #[case] path: &str,
    #[case] status: u16,
) {
    let res = call(engine, MockLinks::new(), method, path, None).await;

    assert_eq!(u16::from(res.status()), status);
    assert_eq!(problem(&res)["status"], status);
}

#[rstest]
#[case(&[("authorization", "Bearer sk_abc")], Some("sk_abc"))]
#[case(&[("authorization", "bearer   sk_abc ")], Some("sk_abc"))]
#[case(&[("x-api-key", "sk_abc")], Some("sk_abc"))]
// Authorization wins over X-Api-Key.
#[case(&[("x-api-key", "sk_other"), ("authorization", "Bearer sk_abc")], Some("sk_abc"))]
#[case(&[], None)]
#[tokio::test]
async fn the_credential_is_read_from_either_header(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] headers: &[(&str, &str)],
    #[case] presented: Option<&'static str>,
) {
    let mut links = MockLinks::new();
    links
        .expect_authenticate()
        .withf(move |credential| credential.as_deref() == presented)
        .once()
        .returning(|_| Ok(ADMIN));
    links
        .expect_list()
        .once()
        .returning(|_, _| Ok(LinkPage::default()));

    let res = send(
        engine,
        links,
        request(Method::GET, "/api/v1/links", headers),
        None,
    )
    .await;

    assert_eq!(res.status(), 200);
}

#[rstest]
#[case(&[("authorization", "Basic dXNlcjpwdw==")], "the Authorization header must use the Bearer scheme")]
#[case(&[("authorization", "sk_abc")], "the Authorization header must be `Bearer <API key>`")]
#[case(&[("x-api-key", "sk_a"), ("x-api-key", "sk_b")], "a request carries at most one credential header of each kind")]
#[tokio::test]
async fn an_unusable_credential_header_is_401_without_a_lookup(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] headers: &[(&str, &str)],
    #[case] detail: &str,
) {
    let mut links = MockLinks::new();
    links.expect_authenticate().never();
    links.expect_list().never();

    let res = send(
        engine,
        links,
        request(Method::GET, "/api/v1/links", headers),
        None,
    )
    .await;

    assert_eq!(res.status(), 401);
    assert_eq!(
        res.header("www-authenticate"),
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(problem(&res)["detail"], detail);
}

#[rstest]
#[case(AuthError::Unknown, "the API key is not known")]
#[case(AuthError::Revoked, "the API key has been revoked")]
#[case(
    AuthError::Malformed(KeyError::Prefix),
    "the API key is malformed: an API key starts with sk_"
)]
#[tokio::test]
async fn a_refused_key_is_401_and_goes_no_further(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] error: AuthError,
    #[case] detail: &str,
) {
    let mut links = MockLinks::new();
    links.expect_authenticate().return_once(move |_| Err(error));
    links.expect_delete().never();

    let headers = [("authorization", "Bearer sk_abc")];
    let res = send(
        engine,
        links,
        request(Method::DELETE, "/api/v1/links/abcDEF12", &headers),
        None,
    )
    .await;

    assert_eq!(res.status(), 401);
    assert_eq!(
        res.header("www-authenticate"),
        r#"Bearer error="invalid_token""#
    );
    let problem = problem(&res);
    assert_eq!(problem["type"], "urn:shortener:problem:unauthorized");
    assert_eq!(problem["detail"], detail);
}

#[rstest]
#[case(Method::GET, "/api/v1/links")]
#[case(Method::GET, "/api/v1/links/abcDEF12")]
#[case(Method::DELETE, "/api/v1/links/abcDEF12")]
#[case(Method::POST, "/api/v1/urls")]
#[tokio::test]
async fn without_a_key_the_use_cases_say_401(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] method: Method,
    #[case] path: &str,
) {
    let mut links = MockLinks::new();
    links
        .expect_authenticate()
        .withf(|credential| credential.is_none())
        .returning(|_| Ok(Caller::Anonymous));
    links
        .expect_list()
        .returning(|_, _| Err(ListLinksError::Unauthenticated));
    links
        .expect_detail()
        .returning(|_, _| Err(LinkDetailError::Unauthenticated));
    links
        .expect_delete()
        .returning(|_, _| Err(DeleteLinkError::Unauthenticated));
    links
        .expect_shorten()
        .returning(|_, _| Err(ShortenError::Unauthenticated));

    let res = send(
        engine,
        links,
        request(method, path, &[]),
        Some(r#"{"original_url":"https://example.com/"}"#),
    )
    .await;

    assert_eq!(res.status(), 401);
    assert_eq!(res.header("www-authenticate"), "Bearer");
    assert_eq!(problem(&res)["type"], "urn:shortener:problem:unauthorized");
}

#[rstest]
#[tokio::test]
async fn a_key_store_that_cannot_answer_is_503_not_401(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links
        .expect_authenticate()
        .returning(|_| Err(AuthError::Store(RepoError::Unavailable("down".into()))));

    let headers = [("x-api-key", "sk_abc")];
    let res = send(
        engine,
        links,
        request(Method::GET, "/api/v1/links", &headers),
        None,
    )
    .await;

    assert_eq!(res.status(), 503);
}

#[rstest]
#[case(Method::GET, "/abcDEF12")]
#[case(Method::HEAD, "/abcDEF12")]
#[case(Method::GET, "/api/v1/openapi.json")]
#[tokio::test]
async fn public_routes_ask_for_no_key(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] method: Method,
    #[case] path: &str,
) {
    let mut links = MockLinks::new();
    links.expect_authenticate().never();
    links
        .expect_redirect()
        .returning(|_, _| Ok(LongUrl::parse("https://example.com/").unwrap()));
    links
        .expect_resolve()
        .returning(|_| Ok(LongUrl::parse("https://example.com/").unwrap()));

    let headers = [("authorization", "Basic junk")];
    let res = send(engine, links, request(method, path, &headers), None).await;

    assert!(res.status().is_success() || res.status().is_redirection());
}

fn quota() -> Quota {
    Quota {
        limit: 60,
        window: Duration::from_secs(60),
    }
}

#[rstest]
#[case(Method::POST, "/api/v1/urls", Budget::Shorten)]
#[case(Method::GET, "/api/v1/links", Budget::Manage)]
#[case(Method::DELETE, "/api/v1/links/abcDEF12", Budget::Manage)]
#[case(Method::GET, "/abcDEF12", Budget::Redirect)]
#[case(Method::HEAD, "/abcDEF12", Budget::Redirect)]
#[tokio::test]
async fn over_budget_is_429_with_retry_after_and_the_handler_never_runs(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] method: Method,
    #[case] path: &str,
    #[case] budget: Budget,
) {
    let management = path.starts_with("/api");
    let mut links = MockLinks::new();
    links
        .expect_admit()
        .withf(move |spent, caller, address| {
            *spent == budget
                && (management == (*caller == ADMIN))
                && *address == Some("198.51.100.7".parse().unwrap())
        })
        .once()
        .returning(|_, _, _| {
            Err(Throttled {
                quota: quota(),
                retry_after: Duration::from_millis(1500),
            })
        });
    links.expect_shorten().never();
    links.expect_list().never();
    links.expect_delete().never();
    links.expect_redirect().never();
    links.expect_resolve().never();

    let head = method == Method::HEAD;
    let res = call(
        engine,
        links,
        method,
        path,
        Some(r#"{"original_url":"https://a.b/"}"#),
    )
    .await;

    assert_eq!(res.status(), 429);
    assert_eq!(res.header("retry-after"), "2");
    let name = budget.name();
    assert_eq!(
        res.header("ratelimit-policy"),
        format!("\"{name}\";q=60;w=60").as_str()
    );
    assert_eq!(
        res.header("ratelimit"),
        format!("\"{name}\";r=0;t=2").as_str()
    );
    if !head {
        let problem = problem(&res);
        assert_eq!(problem["type"], "urn:shortener:problem:rate-limited");
        assert_eq!(
            problem["detail"],
            format!("over the {name} budget of 60 requests per 60 s; retry in 2 s")
        );
    }
}

#[rstest]
#[tokio::test]
async fn an_admitted_request_says_what_is_left(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let mut links = MockLinks::new();
    links.expect_admit().returning(|_, _, _| {
        Ok(Some(Allowance {
            quota: quota(),
            remaining: 41,
            full_in: Duration::from_secs(19),
        }))
    });
    links
        .expect_list()
        .returning(|_, _| Ok(LinkPage::default()));

    let res = call(engine, links, Method::GET, "/api/v1/links", None).await;

    assert_eq!(res.status(), 200);
    assert_eq!(res.header("ratelimit-policy"), "\"manage\";q=60;w=60");
    assert_eq!(res.header("ratelimit"), "\"manage\";r=41;t=19");
}

/// Guessing keys costs the guesser's address its budget: a refused key spends it, and over
/// budget the guesses get 429 without a lookup's worth of answer.
#[rstest]
#[case(Ok(None), 401)]
#[case(Err(Throttled { quota: quota(), retry_after: Duration::from_secs(1) }), 429)]
#[tokio::test]
async fn a_refused_key_spends_its_addresss_budget(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
    #[case] admitted: Result<Option<Allowance>, Throttled>,
    #[case] status: u16,
) {
    let mut links = MockLinks::new();
    links
        .expect_authenticate()
        .returning(|_| Err(AuthError::Unknown));
    links
        .expect_admit()
        .withf(|budget, caller, address| {
            *budget == Budget::Manage && *caller == Caller::Anonymous && address.is_some()
        })
        .once()
        .return_once(move |_, _, _| admitted);
    links.expect_list().never();

    let res = call(engine, links, Method::GET, "/api/v1/links", None).await;

    assert_eq!(u16::from(res.status()), status);
}
