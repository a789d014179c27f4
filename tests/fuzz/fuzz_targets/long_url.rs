//! `LongUrl::parse`, the rules every URL to shorten goes through: it never panics, and what it
//! accepts is within the rules and reads back as itself (normalising twice changes nothing).
#![no_main]

use domain::LongUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(url) = LongUrl::parse(input) else {
        return;
    };
    let stored = url.as_str();
    assert!(stored.len() <= LongUrl::MAX_LEN, "{stored}");
    assert!(stored.starts_with("http://") || stored.starts_with("https://"), "{stored}");
    assert!(!stored.chars().any(|c| c.is_whitespace() || c.is_control()), "{stored:?}");
    assert!(stored.is_ascii(), "a Location header must be ASCII: {stored:?}");
    assert_eq!(LongUrl::parse(stored).as_ref(), Ok(&url), "{input:?}");
});
