//! Every route url-api serves, in one table: each engine's router is built from it, metrics
//! and spans are labelled from it, a 405's `Allow` header is read from it, and a test holds the
//! OpenAPI document to it.

use application::ports::Budget;
use http::Method;

/// What answers a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Shorten,
    ListLinks,
    LinkDetail,
    DeleteLink,
    OpenApi,
    Redirect,
    /// HEAD of a short link: a redirect that records no click.
    Probe,
}

impl Endpoint {
    /// Whether anyone may call it without a key (DESIGN.md): following and probing a link,
    /// and the OpenAPI document. Every other handler asks who the caller is.
    pub(crate) fn is_public(self) -> bool {
        matches!(self, Self::OpenApi | Self::Redirect | Self::Probe)
    }

    /// The budget a request to it spends; the OpenAPI document, a constant, spends none.
    pub(crate) fn budget(self) -> Option<Budget> {
        match self {
            Self::Shorten => Some(Budget::Shorten),
            Self::ListLinks | Self::LinkDetail | Self::DeleteLink => Some(Budget::Manage),
            Self::Redirect | Self::Probe => Some(Budget::Redirect),
            Self::OpenApi => None,
        }
    }
}

pub(crate) struct Route {
    pub(crate) method: Method,
    /// In go-zero's syntax (tide's too), which metrics are labelled with for go-zero's
    /// dashboards: `:name` is a path segment.
    pub(crate) pattern: &'static str,
    pub(crate) endpoint: Endpoint,
}

impl Route {
    /// The pattern in OpenAPI's syntax (axum's too): `{name}` for `:name`.
    pub(crate) fn openapi_path(&self) -> String {
        self.pattern
            .split('/')
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) => format!("{{{name}}}"),
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

pub(crate) const ROUTES: [Route; 7] = [
    Route {
        method: Method::POST,
        pattern: "/api/v1/urls",
        endpoint: Endpoint::Shorten,
    },
    Route {
        method: Method::GET,
        pattern: "/api/v1/links",
        endpoint: Endpoint::ListLinks,
    },
    Route {
        method: Method::GET,
        pattern: "/api/v1/links/:code",
        endpoint: Endpoint::LinkDetail,
    },
    Route {
        method: Method::DELETE,
        pattern: "/api/v1/links/:code",
        endpoint: Endpoint::DeleteLink,
    },
    Route {
        method: Method::GET,
        pattern: "/api/v1/openapi.json",
        endpoint: Endpoint::OpenApi,
    },
    Route {
        method: Method::GET,
        pattern: "/:code",
        endpoint: Endpoint::Redirect,
    },
    Route {
        method: Method::HEAD,
        pattern: "/:code",
        endpoint: Endpoint::Probe,
    },
];

/// The pattern of the route a path falls under: the most specific that matches it (a literal
/// segment beats a `:name`, as in the routers).
pub(crate) fn pattern(path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .filter_map(|route| specificity(route.pattern, path).map(|s| (s, route.pattern)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, pattern)| pattern)
}

/// The pattern of the route that answers `method` on `path`, as the routers find it (HEAD
/// falls back to GET). Metrics and spans are labelled with it, never with the raw path: one
/// series per short code would sink Prometheus.
pub(crate) fn label(method: &Method, path: &str) -> &'static str {
    let Some(pattern) = pattern(path) else {
        return UNMATCHED;
    };
    let takes = |wanted: &Method| {
        ROUTES
            .iter()
            .any(|route| route.pattern == pattern && route.method == *wanted)
    };
    if takes(method) || (*method == Method::HEAD && takes(&Method::GET)) {
        pattern
    } else {
        UNMATCHED
    }
}

/// The label of a request no route answers.
pub(crate) const UNMATCHED: &str = "unmatched";

/// The methods a path takes, for a 405's `Allow` header: those of its route. HEAD comes with
/// GET, since the routers answer HEAD wherever there is a GET.
pub(crate) fn allowed_methods(path: &str) -> Vec<Method> {
    let pattern = pattern(path);
    let mut methods: Vec<Method> = ROUTES
        .iter()
        .filter(|route| Some(route.pattern) == pattern)
        .map(|route| route.method.clone())
        .collect();
    if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
        methods.push(Method::HEAD);
    }
    methods
}

/// How many literal segments of `pattern` match `path`, when the whole of it matches. On the
/// bytes: every request is labelled with it, and a `str` split costs a searcher per call.
fn specificity(pattern: &str, path: &str) -> Option<usize> {
    let mut wanted = pattern.as_bytes().split(|byte| *byte == b'/');
    let mut got = path.as_bytes().split(|byte| *byte == b'/');
    let mut literal = 0;
    loop {
        match (wanted.next(), got.next()) {
            (None, None) => return Some(literal),
            (Some(want), Some(segment)) if want.starts_with(b":") => {
                if segment.is_empty() {
                    return None;
                }
            }
            (Some(want), Some(segment)) if want == segment => literal += 1,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("/api/v1/urls", Some("/api/v1/urls"))]
    #[case("/api/v1/links", Some("/api/v1/links"))]
    #[case("/api/v1/links/abcDEF12", Some("/api/v1/links/:code"))]
    #[case("/api/v1/links/not-a-code", Some("/api/v1/links/:code"))]
    #[case("/api/v1/openapi.json", Some("/api/v1/openapi.json"))]
    #[case("/abcDEF12", Some("/:code"))]
    #[case("/favicon.ico", Some("/:code"))]
    #[case("/", None)]
    #[case("/api/v1/links/abcDEF12/more", None)]
    fn a_path_falls_under_its_most_specific_route(
        #[case] path: &str,
        #[case] expected: Option<&str>,
    ) {
        assert_eq!(pattern(path), expected);
    }

    #[rstest]
    #[case(Method::GET, "/abcDEF12", "/:code")]
    #[case(Method::HEAD, "/abcDEF12", "/:code")]
    #[case(Method::HEAD, "/api/v1/links", "/api/v1/links")]
    #[case(Method::DELETE, "/api/v1/links/abcDEF12", "/api/v1/links/:code")]
    #[case(Method::POST, "/abcDEF12", "unmatched")]
    #[case(Method::GET, "/a/b/c", "unmatched")]
    fn a_request_is_labelled_with_the_route_that_answers_it(
        #[case] method: Method,
        #[case] path: &str,
        #[case] expected: &str,
    ) {
        assert_eq!(label(&method, path), expected);
    }

    #[rstest]
    #[case("/api/v1/urls", &[Method::POST])]
    #[case("/api/v1/links", &[Method::GET, Method::HEAD])]
    #[case("/api/v1/links/abcDEF12", &[Method::GET, Method::DELETE, Method::HEAD])]
    #[case("/abcDEF12", &[Method::GET, Method::HEAD])]
    #[case("/api/v1/openapi.json", &[Method::GET, Method::HEAD])]
    #[case("/nowhere/at/all", &[])]
    fn a_path_allows_the_methods_of_its_route(#[case] path: &str, #[case] methods: &[Method]) {
        assert_eq!(allowed_methods(path), methods);
    }
}
