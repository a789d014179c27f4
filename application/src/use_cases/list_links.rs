use domain::{Caller, LinkQuery, Visibility};

use crate::ports::{LinkPage, RepoError, UrlRepo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListLinksError {
    #[error("listing links needs an API key")]
    Unauthenticated,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// One page of the links the caller may see: an admin's listing covers every link, a member's
/// only its own. The query is already valid: `LinkQuery` can't hold an out-of-range page.
///
/// # Errors
/// [`ListLinksError::Unauthenticated`] without a key; [`ListLinksError::Repo`] when the store
/// fails.
pub async fn list_links(
    repo: &impl UrlRepo,
    caller: Caller,
    query: &LinkQuery,
) -> Result<LinkPage, ListLinksError> {
    match caller.visibility() {
        Visibility::Nothing => Err(ListLinksError::Unauthenticated),
        visible => Ok(repo.list(query, visible).await?),
    }
}

#[cfg(test)]
mod tests {
    use domain::{KeyId, Page, Role, SearchTerm, SortKey, SortOrder};
    use futures::executor::block_on;

    use super::*;
    use crate::ports::MockUrlRepo;

    const ADMIN: Caller = Caller::Key {
        id: KeyId(1),
        role: Role::Admin,
    };

    #[test]
    fn a_member_lists_only_its_own_links() {
        let member = Caller::Key {
            id: KeyId(5),
            role: Role::Member,
        };
        let mut repo = MockUrlRepo::new();
        repo.expect_list()
            .withf(|_, v| *v == Visibility::OwnedBy(KeyId(5)))
            .once()
            .returning(|_, _| Ok(LinkPage::default()));

        assert_eq!(
            block_on(list_links(&repo, member, &LinkQuery::default())),
            Ok(LinkPage::default())
        );
    }

    #[test]
    fn nobody_in_particular_lists_nothing() {
        let mut repo = MockUrlRepo::new();
        repo.expect_list().never();

        assert_eq!(
            block_on(list_links(&repo, Caller::Anonymous, &LinkQuery::default())),
            Err(ListLinksError::Unauthenticated)
        );
    }

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
            .withf(move |q, v| *q == expected && *v == Visibility::Every)
            .once()
            .returning(|_, _| {
                Ok(LinkPage {
                    links: vec![],
                    total_count: 7,
                })
            });

        let page = block_on(list_links(&repo, ADMIN, &query)).unwrap();

        assert_eq!(page.total_count, 7);
    }

    #[test]
    fn reports_store_failures() {
        let mut repo = MockUrlRepo::new();
        repo.expect_list()
            .once()
            .returning(|_, _| Err(RepoError::Unexpected("syntax error".into())));

        let result = block_on(list_links(&repo, ADMIN, &LinkQuery::default()));

        assert_eq!(
            result,
            Err(ListLinksError::Repo(RepoError::Unexpected(
                "syntax error".into()
            )))
        );
    }
}
