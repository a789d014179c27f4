//! The query string of `GET /api/v1/links`, exactly as a request line carries it: the parser
//! never panics, and a query it accepts holds only what the store can be asked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let Ok(query) = adapter_http::parse_link_query(Some(raw)) else {
        return;
    };
    assert!((1..=100).contains(&query.page.size()));
    assert!(query.page.number() >= 1);
    if let Some(term) = &query.search {
        assert!(!term.as_str().is_empty());
        assert!(term.as_str().chars().count() <= 2048);
        assert!(!term.as_str().chars().any(char::is_control), "{:?}", term.as_str());
    }
});
