use domain::LinkQuery;

use crate::ports::{LinkPage, RepoError, UrlRepo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListLinksError {
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// One page of links. The query is already valid: `LinkQuery` can't hold an out-of-range page.
///
/// # Errors
/// [`ListLinksError::Repo`] when the store fails.
pub async fn list_links(
    repo: &impl UrlRepo,
    query: &LinkQuery,
) -> Result<LinkPage, ListLinksError> {
    Ok(repo.list(query).await?)
}

#[cfg(test)]
mod tests {
    use domain::{Page, SearchTerm, SortKey, SortOrder};
    use futures::executor::block_on;

    use super::*;
    use crate::ports::MockUrlRepo;

    #[test]
    fn passes_the_query_through() {
        let query = LinkQuery {
            page: Page::new(2, 5).unwrap(),
            sort: SortKey::OriginalUrl,
            order: SortOrder::Asc,
            search: SearchTerm::parse("example").unwrap(),
        };
        let expected = query.clone();
        let mut repo = MockUrlRepo::new();
        repo.expect_list()
            .withf(move |q| *q == expected)
            .once()
            .returning(|_| {
                Ok(LinkPage {
                    links: vec![],
                    total_count: 7,
                })
            });

        let page = block_on(list_links(&repo, &query)).unwrap();

        assert_eq!(page.total_count, 7);
    }

    #[test]
    fn reports_store_failures() {
        let mut repo = MockUrlRepo::new();
        repo.expect_list()
            .once()
            .returning(|_| Err(RepoError::Unexpected("syntax error".into())));

        let result = block_on(list_links(&repo, &LinkQuery::default()));

        assert_eq!(
            result,
            Err(ListLinksError::Repo(RepoError::Unexpected(
                "syntax error".into()
            )))
        );
    }
}
