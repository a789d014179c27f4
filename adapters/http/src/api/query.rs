//! The query string of `GET /api/v1/links`, parsed strictly: an unknown or repeated parameter,
//! or one that doesn't decode to UTF-8, is a 400 that names it, rather than silently ignored or
//! mended.

use std::borrow::Cow;

use domain::{LinkQuery, Page, QueryError, SearchTerm, SortKey, SortOrder};

use crate::api::problem::Problem;

const PARAMETERS: [&str; 5] = ["page", "per_page", "sort", "order", "search"];

/// The query as the request line carries it (`None` without a `?`).
pub(crate) fn link_query(raw: Option<&str>) -> Result<LinkQuery, Problem> {
    let mut given: [Option<String>; 5] = Default::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name)?, decode(value)?);
        let Some(slot) = PARAMETERS.iter().position(|p| *p == name) else {
            return Err(invalid(format!(
                "unknown query parameter '{name}'; expected one of {}",
                PARAMETERS.join(", ")
            )));
        };
        if given[slot].replace(value.into_owned()).is_some() {
            return Err(invalid(format!(
                "query parameter '{name}' is given more than once"
            )));
        }
    }
    let [page, per_page, sort, order, search] = given;
    let defaults = LinkQuery::default();
    let page = Page::new(
        number("page", page)?.unwrap_or(defaults.page.number()),
        number("per_page", per_page)?.unwrap_or(defaults.page.size()),
    );
    let build = || -> Result<LinkQuery, QueryError> {
        Ok(LinkQuery {
            page: page?,
            sort: sort.as_deref().map_or(Ok(defaults.sort), SortKey::parse)?,
            order: order
                .as_deref()
                .map_or(Ok(defaults.order), SortOrder::parse)?,
            search: search.as_deref().map_or(Ok(None), SearchTerm::parse)?,
        })
    };
    build().map_err(|e| invalid(e.to_string()))
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space), refusing what isn't UTF-8
/// once decoded.
fn decode(encoded: &str) -> Result<Cow<'_, str>, Problem> {
    let spaced = if encoded.contains('+') {
        Cow::Owned(encoded.replace('+', " "))
    } else {
        Cow::Borrowed(encoded)
    };
    let decoded = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| invalid(format!("'{encoded}' does not decode to UTF-8 text")))?;
    Ok(Cow::Owned(decoded.into_owned()))
}

fn number(name: &str, value: Option<String>) -> Result<Option<u32>, Problem> {
    value
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| invalid(format!("{name} must be a whole number, not '{v}'")))
        })
        .transpose()
}

fn invalid(detail: String) -> Problem {
    Problem::bad_request("invalid-query", detail)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn parse(query: &str) -> Result<LinkQuery, Problem> {
        link_query(Some(query))
    }

    #[test]
    fn defaults_to_newest_first_twenty_a_page() {
        assert_eq!(parse("").unwrap(), LinkQuery::default());
    }

    #[test]
    fn decodes_like_a_form() {
        assert_eq!(
            parse("search=a+b%20c%2Bd")
                .unwrap()
                .search
                .unwrap()
                .as_str(),
            "a b c+d"
        );
        assert_eq!(parse("&&page=2&").unwrap().page.number(), 2);
        assert_eq!(link_query(None).unwrap(), LinkQuery::default());
    }

    #[test]
    fn reads_every_parameter() {
        let query =
            parse("page=3&per_page=50&sort=original_url&order=asc&search=50%25_off").unwrap();
        assert_eq!(query.page, Page::new(3, 50).unwrap());
        assert_eq!(query.sort, SortKey::OriginalUrl);
        assert_eq!(query.order, SortOrder::Asc);
        assert_eq!(query.search.unwrap().as_str(), "50%_off");
    }

    #[rstest]
    #[case("per_page=0", "per_page must be between 1 and 100")]
    #[case("per_page=101", "per_page must be between 1 and 100")]
    #[case("page=0", "page must be 1 or more")]
    #[case("page=-1", "page must be a whole number, not '-1'")]
    #[case("page=abc", "page must be a whole number, not 'abc'")]
    #[case("page=99999999999", "page must be a whole number, not '99999999999'")]
    #[case("sort=id", "sort must be created_at or original_url, not 'id'")]
    #[case("order=up", "order must be asc or desc, not 'up'")]
    #[case("limit=5", "unknown query parameter 'limit'")]
    #[case("page=1&page=2", "query parameter 'page' is given more than once")]
    #[case("search=%00", "search must not contain control characters")]
    #[case("search=%FF", "'%FF' does not decode to UTF-8 text")]
    #[case("%FF=1", "'%FF' does not decode to UTF-8 text")]
    #[case("page", "page must be a whole number, not ''")]
    fn rejects_with_a_reason(#[case] query: &str, #[case] reason: &str) {
        let problem = parse(query).unwrap_err();
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["status"], 400);
        assert!(
            json["detail"].as_str().unwrap().starts_with(reason),
            "{json}"
        );
    }
}
