//! `ShortCode::parse`, run on every redirect's path: it never panics, and accepts exactly eight
//! ASCII alphanumerics, which read back unchanged.
#![no_main]

use domain::ShortCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let parsed = ShortCode::parse(input);
    let valid = input.len() == ShortCode::LEN && input.bytes().all(|b| b.is_ascii_alphanumeric());
    assert_eq!(parsed.is_ok(), valid, "{input:?}");
    if let Ok(code) = parsed {
        assert_eq!(code.as_str(), input);
    }
});
