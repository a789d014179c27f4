use std::fmt;

use rand::{CryptoRng, RngExt};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The key of a link: exactly [`ShortCode::LEN`] characters of `[0-9A-Za-z]`.
///
/// Stored inline (no heap), so parsing one on every redirect costs nothing but the check.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortCode([u8; ShortCode::LEN]);

/// Why a string is not a short code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a short code has {expected} characters, not {actual}")]
    WrongLength { expected: usize, actual: usize },
    #[error("a short code uses only the characters 0-9, A-Z and a-z")]
    WrongAlphabet,
}

impl ShortCode {
    pub const LEN: usize = 8;

    /// Checks a code that came from outside (a URL path, a database row).
    ///
    /// # Errors
    /// [`CodeError`] when the length or the alphabet is wrong.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        if !input.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CodeError::WrongAlphabet);
        }
        // All ASCII from here on, so bytes and characters are the same count.
        let bytes: [u8; Self::LEN] =
            input
                .as_bytes()
                .try_into()
                .map_err(|_| CodeError::WrongLength {
                    expected: Self::LEN,
                    actual: input.len(),
                })?;
        Ok(Self(bytes))
    }

    /// Draws a fresh code from a cryptographically secure generator, so codes can't be guessed
    /// from earlier ones. Each character is uniform over the 62-letter alphabet (no modulo bias).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(std::array::from_fn(|_| {
            ALPHABET[rng.random_range(0..ALPHABET.len())]
        }))
    }

    pub fn as_str(&self) -> &str {
        // Every constructor admits ASCII alphanumerics only, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("abcDEF12")]
    #[case("00000000")]
    #[case("zzzzzzzz")]
    #[case("AZaz09Zz")]
    fn accepts_eight_alphanumerics(#[case] input: &str) {
        assert_eq!(ShortCode::parse(input).unwrap().as_str(), input);
    }

    #[rstest]
    #[case("", CodeError::WrongLength { expected: 8, actual: 0 })]
    #[case("abc", CodeError::WrongLength { expected: 8, actual: 3 })]
    #[case("abcdefghi", CodeError::WrongLength { expected: 8, actual: 9 })]
    #[case("abcd-fgh", CodeError::WrongAlphabet)]
    #[case("abcd_fgh", CodeError::WrongAlphabet)]
    #[case("abcd fgh", CodeError::WrongAlphabet)]
    #[case("abcd%20h", CodeError::WrongAlphabet)]
    #[case("api/v1/l", CodeError::WrongAlphabet)]
    // Eight bytes, but "é" is not in the alphabet.
    #[case("abcdeé1", CodeError::WrongAlphabet)]
    #[case("abcdéfgh", CodeError::WrongAlphabet)]
    fn rejects_anything_else(#[case] input: &str, #[case] expected: CodeError) {
        assert_eq!(ShortCode::parse(input), Err(expected));
    }

    #[test]
    fn generated_codes_parse_back() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1_000 {
            let code = ShortCode::generate(&mut rng);
            assert_eq!(ShortCode::parse(code.as_str()), Ok(code));
        }
    }

    #[test]
    fn generation_covers_the_whole_alphabet() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut seen = [false; 128];
        for _ in 0..500 {
            for b in ShortCode::generate(&mut rng).0 {
                seen[usize::from(b)] = true;
            }
        }
        assert!(ALPHABET.iter().all(|&b| seen[usize::from(b)]));
    }
}
