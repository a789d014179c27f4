//! Every route url-api serves, in one table: the router is built from it, metrics and spans
//! are labelled from it, a 405's `Allow` header is read from it, and a test holds the OpenAPI
//! document to it.

use application::ports::Budget;
use tide::http::Method;

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
    /// In tide's syntax: `:name` is a path segment.
    pub(crate) pattern: &'static str,
    pub(crate) endpoint: Endpoint,
}

pub(crate) const ROUTES: [Route; 7] = [
    Route {
        method: Method::Post,
        pattern: "/api/v1/urls",
        endpoint: Endpoint::Shorten,
    },
    Route {
        method: Method::Get,
        pattern: "/api/v1/links",
        endpoint: Endpoint::ListLinks,
    },
    Route {
        method: Method::Get,
        pattern: "/api/v1/links/:code",
        endpoint: Endpoint::LinkDetail,
    },
    Route {
        method: Method::Delete,
        pattern: "/api/v1/links/:code",
        endpoint: Endpoint::DeleteLink,
    },
    Route {
        method: Method::Get,
        pattern: "/api/v1/openapi.json",
        endpoint: Endpoint::OpenApi,
    },
    Route {
        method: Method::Get,
        pattern: "/:code",
        endpoint: Endpoint::Redirect,
    },
    Route {
        method: Method::Head,
        pattern: "/:code",
        endpoint: Endpoint::Probe,
    },
];

/// The pattern of the route a path falls under: the most specific that matches it (a literal
/// segment beats a `:name`, as in the router). Metrics and spans are labelled with it, never
/// with the raw path.
pub(crate) fn pattern(path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .filter_map(|route| specificity(route.pattern, path).map(|s| (s, route.pattern)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, pattern)| pattern)
}

/// The methods a path takes, for a 405's `Allow` header: those of its route. HEAD comes with
/// GET, since the router answers HEAD wherever there is a GET.
pub(crate) fn allowed_methods(path: &str) -> Vec<Method> {
    let pattern = pattern(path);
    let mut methods: Vec<Method> = ROUTES
        .iter()
        .filter(|route| Some(route.pattern) == pattern)
        .map(|route| route.method)
        .collect();
    if methods.contains(&Method::Get) && !methods.contains(&Method::Head) {
        methods.push(Method::Head);
    }
    methods
}

/// How many literal segments of `pattern` match `path`, when the whole of it matches.
fn specificity(pattern: &str, path: &str) -> Option<usize> {
    let (pattern, path) = (pattern.split('/'), path.split('/'));
    if pattern.clone().count() != path.clone().count() {
        return None;
    }
    pattern.zip(path).try_fold(0, |literal, (want, got)| {
        if want.starts_with(':') {
            (!got.is_empty()).then_some(literal)
        } else {
            (want == got).then_some(literal + 1)
        }
    })
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
    #[case("/api/v1/urls", &[Method::Post])]
    #[case("/api/v1/links", &[Method::Get, Method::Head])]
    #[case("/api/v1/links/abcDEF12", &[Method::Get, Method::Delete, Method::Head])]
    #[case("/abcDEF12", &[Method::Get, Method::Head])]
    #[case("/api/v1/openapi.json", &[Method::Get, Method::Head])]
    #[case("/nowhere/at/all", &[])]
    fn a_path_allows_the_methods_of_its_route(#[case] path: &str, #[case] methods: &[Method]) {
        assert_eq!(allowed_methods(path), methods);
    }
}
