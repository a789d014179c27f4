use crate::LongUrl;

/// Which page of links to return, and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkQuery {
    pub page: Page,
    pub sort: SortKey,
    pub order: SortOrder,
    pub search: Option<SearchTerm>,
}

impl Default for LinkQuery {
    /// Newest links first, twenty at a time.
    fn default() -> Self {
        Self {
            page: Page::default(),
            sort: SortKey::CreatedAt,
            order: SortOrder::Desc,
            search: None,
        }
    }
}

/// Why a listing request is out of bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("page must be 1 or more")]
    PageOutOfRange,
    #[error("per_page must be between 1 and {max}", max = Page::MAX_SIZE)]
    PerPageOutOfRange,
    #[error("sort must be created_at or original_url, not '{0}'")]
    UnknownSort(String),
    #[error("order must be asc or desc, not '{0}'")]
    UnknownOrder(String),
    #[error("search is longer than any stored URL ({max} characters)", max = LongUrl::MAX_LEN)]
    SearchTooLong,
    #[error("search must not contain control characters (such as NUL or a line break)")]
    SearchControlCharacter,
}

/// A 1-based page number and a page size of 1..=[`Page::MAX_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    number: u32,
    size: u32,
}

impl Page {
    pub const DEFAULT_SIZE: u32 = 20;
    pub const MAX_SIZE: u32 = 100;

    /// # Errors
    /// [`QueryError::PageOutOfRange`] or [`QueryError::PerPageOutOfRange`].
    pub fn new(number: u32, size: u32) -> Result<Self, QueryError> {
        if number == 0 {
            return Err(QueryError::PageOutOfRange);
        }
        if !(1..=Self::MAX_SIZE).contains(&size) {
            return Err(QueryError::PerPageOutOfRange);
        }
        Ok(Self { number, size })
    }

    pub fn number(self) -> u32 {
        self.number
    }

    pub fn size(self) -> u32 {
        self.size
    }

    /// Rows to skip before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.number - 1) * u64::from(self.size)
    }

    /// How many pages `total` rows fill; 0 when there are none.
    pub fn count_pages(self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.size))
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            number: 1,
            size: Self::DEFAULT_SIZE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreatedAt,
    OriginalUrl,
}

impl SortKey {
    /// # Errors
    /// [`QueryError::UnknownSort`] for any name but `created_at` and `original_url`.
    pub fn parse(name: &str) -> Result<Self, QueryError> {
        match name {
            "created_at" => Ok(Self::CreatedAt),
            "original_url" => Ok(Self::OriginalUrl),
            other => Err(QueryError::UnknownSort(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    /// # Errors
    /// [`QueryError::UnknownOrder`] for any name but `asc` and `desc`.
    pub fn parse(name: &str) -> Result<Self, QueryError> {
        match name {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            other => Err(QueryError::UnknownOrder(other.to_owned())),
        }
    }
}

/// Text to look for inside original URLs, taken literally: `%` and `_` are not wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// An empty term means "no filter", so it gives `None`.
    ///
    /// # Errors
    /// [`QueryError::SearchTooLong`] past [`LongUrl::MAX_LEN`] characters (stored URLs are
    /// ASCII, so no longer term could match one), and
    /// [`QueryError::SearchControlCharacter`] for a control character: no stored URL holds one
    /// (see [`LongUrl::parse`]), and a store may refuse the term outright (PostgreSQL refuses
    /// NUL in any text), which must be the caller's 400, never the store's failure.
    pub fn parse(input: &str) -> Result<Option<Self>, QueryError> {
        if input.chars().count() > LongUrl::MAX_LEN {
            return Err(QueryError::SearchTooLong);
        }
        if input.chars().any(char::is_control) {
            return Err(QueryError::SearchControlCharacter);
        }
        Ok((!input.is_empty()).then(|| Self(input.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SQL `LIKE` pattern (escape character `\`) that matches the term anywhere, its own
    /// `%`, `_` and `\` made literal: what every SQL store searches with.
    pub fn like_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.0.len() + 2);
        pattern.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("example", "%example%")]
    #[case("50%", "%50\\%%")]
    #[case("a_b", "%a\\_b%")]
    #[case("back\\slash", "%back\\\\slash%")]
    fn like_patterns_take_the_term_literally(#[case] term: &str, #[case] pattern: &str) {
        let term = SearchTerm::parse(term).unwrap().unwrap();
        assert_eq!(term.like_pattern(), pattern);
    }

    #[rstest]
    #[case(1, 1)]
    #[case(1, 20)]
    #[case(7, 100)]
    #[case(u32::MAX, 100)]
    fn accepts_pages_in_range(#[case] number: u32, #[case] size: u32) {
        let page = Page::new(number, size).unwrap();
        assert_eq!((page.number(), page.size()), (number, size));
    }

    #[rstest]
    #[case(0, 20, QueryError::PageOutOfRange)]
    #[case(1, 0, QueryError::PerPageOutOfRange)]
    #[case(1, 101, QueryError::PerPageOutOfRange)]
    fn rejects_pages_out_of_range(#[case] number: u32, #[case] size: u32, #[case] e: QueryError) {
        assert_eq!(Page::new(number, size), Err(e));
    }

    #[rstest]
    #[case(1, 20, 0)]
    #[case(3, 20, 40)]
    #[case(u32::MAX, 100, (u64::from(u32::MAX) - 1) * 100)]
    fn offsets(#[case] number: u32, #[case] size: u32, #[case] offset: u64) {
        assert_eq!(Page::new(number, size).unwrap().offset(), offset);
    }

    #[rstest]
    #[case(0, 0)]
    #[case(1, 1)]
    #[case(20, 1)]
    #[case(21, 2)]
    #[case(100, 5)]
    fn counts_pages(#[case] total: u64, #[case] pages: u64) {
        assert_eq!(Page::default().count_pages(total), pages);
    }

    #[rstest]
    #[case("created_at", Ok(SortKey::CreatedAt))]
    #[case("original_url", Ok(SortKey::OriginalUrl))]
    #[case("id", Err(QueryError::UnknownSort("id".into())))]
    #[case("CREATED_AT", Err(QueryError::UnknownSort("CREATED_AT".into())))]
    fn parses_sort_keys(#[case] name: &str, #[case] expected: Result<SortKey, QueryError>) {
        assert_eq!(SortKey::parse(name), expected);
    }

    #[rstest]
    #[case("asc", Ok(SortOrder::Asc))]
    #[case("desc", Ok(SortOrder::Desc))]
    #[case("up", Err(QueryError::UnknownOrder("up".into())))]
    fn parses_orders(#[case] name: &str, #[case] expected: Result<SortOrder, QueryError>) {
        assert_eq!(SortOrder::parse(name), expected);
    }

    #[rstest]
    #[case("", Ok(None))]
    #[case("50%_off", Ok(Some("50%_off")))]
    #[case("bücher", Ok(Some("bücher")))]
    #[case("\0", Err(QueryError::SearchControlCharacter))]
    #[case("rust\0", Err(QueryError::SearchControlCharacter))]
    #[case("a\nb", Err(QueryError::SearchControlCharacter))]
    #[case("\t", Err(QueryError::SearchControlCharacter))]
    #[case("\u{7f}", Err(QueryError::SearchControlCharacter))]
    #[case("\u{85}", Err(QueryError::SearchControlCharacter))]
    fn parses_search_terms(
        #[case] input: &str,
        #[case] expected: Result<Option<&str>, QueryError>,
    ) {
        let parsed = SearchTerm::parse(input);
        assert_eq!(
            parsed.as_ref().map(|t| t.as_ref().map(SearchTerm::as_str)),
            expected.as_ref().map(|t| t.as_deref())
        );
    }

    #[test]
    fn rejects_searches_longer_than_any_url() {
        let long = "a".repeat(LongUrl::MAX_LEN + 1);
        assert_eq!(SearchTerm::parse(&long), Err(QueryError::SearchTooLong));
        // Counted in characters, as the API's schema counts them.
        let wide = "é".repeat(LongUrl::MAX_LEN);
        assert!(SearchTerm::parse(&wide).is_ok());
    }
}
