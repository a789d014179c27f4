use domain::{Caller, Link, ShortCode};

use crate::ports::{AnalyticsQuery, RepoError, UrlRepo};

/// A link and its click count, when analytics could tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkDetail {
    pub link: Link,
    /// `None` when analytics could not answer: the link is still worth showing.
    pub total_clicks: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkDetailError {
    #[error("reading a link needs an API key")]
    Unauthenticated,
    #[error("no link has this short code")]
    NotFound,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The link with its click count. Analytics failing degrades the answer, it doesn't fail it.
/// A member sees only its own links; anyone else's is not found.
///
/// # Errors
/// [`LinkDetailError::Unauthenticated`] without a key; [`LinkDetailError::NotFound`] for an
/// unknown code or another's link; [`LinkDetailError::Repo`] when the store fails.
pub async fn link_detail(
    repo: &impl UrlRepo,
    analytics: &impl AnalyticsQuery,
    caller: Caller,
    code: ShortCode,
) -> Result<LinkDetail, LinkDetailError> {
    if caller == Caller::Anonymous {
        return Err(LinkDetailError::Unauthenticated);
    }
    let link = repo
        .find(&code)
        .await?
        .filter(|link| caller.may_manage(link.owner))
        .ok_or(LinkDetailError::NotFound)?;
    let total_clicks = match analytics.click_count(&code).await {
        Ok(count) => Some(count),
        Err(e) => {
            tracing::warn!(%code, error = %e, "click count unknown");
            None
        }
    };
    Ok(LinkDetail { link, total_clicks })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use domain::{KeyId, LongUrl, Role};
    use futures::executor::block_on;

    use super::*;
    use crate::ports::{AnalyticsError, MockAnalyticsQuery, MockUrlRepo};

    const MEMBER: Caller = Caller::Key {
        id: KeyId(5),
        role: Role::Member,
    };

    fn code() -> ShortCode {
        ShortCode::parse("abcDEF12").unwrap()
    }

    fn repo_with_link() -> MockUrlRepo {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().once().returning(|code| {
            Ok(Some(Link {
                code: *code,
                url: LongUrl::parse("https://example.com/").unwrap(),
                created_at: DateTime::from_timestamp(1_600_000_000, 0).unwrap(),
                owner: Some(KeyId(5)),
            }))
        });
        repo
    }

    #[test]
    fn adds_the_click_count() {
        let mut analytics = MockAnalyticsQuery::new();
        analytics
            .expect_click_count()
            .withf(|c| *c == code())
            .once()
            .returning(|_| Ok(42));

        let detail = block_on(link_detail(&repo_with_link(), &analytics, MEMBER, code())).unwrap();

        assert_eq!(detail.link.code, code());
        assert_eq!(detail.total_clicks, Some(42));
    }

    #[test]
    fn shows_the_link_without_a_count_when_analytics_is_unavailable() {
        let mut analytics = MockAnalyticsQuery::new();
        analytics
            .expect_click_count()
            .once()
            .returning(|_| Err(AnalyticsError::Unavailable("deadline exceeded".into())));

        let detail = block_on(link_detail(&repo_with_link(), &analytics, MEMBER, code())).unwrap();

        assert_eq!(detail.total_clicks, None);
    }

    #[test]
    fn an_unknown_code_is_not_found_and_asks_no_analytics() {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().once().returning(|_| Ok(None));
        let mut analytics = MockAnalyticsQuery::new();
        analytics.expect_click_count().never();

        let result = block_on(link_detail(&repo, &analytics, MEMBER, code()));

        assert_eq!(result, Err(LinkDetailError::NotFound));
    }

    #[test]
    fn anothers_link_is_not_found_by_a_member() {
        let mut analytics = MockAnalyticsQuery::new();
        analytics.expect_click_count().never();
        let other = Caller::Key {
            id: KeyId(6),
            role: Role::Member,
        };

        let result = block_on(link_detail(&repo_with_link(), &analytics, other, code()));

        assert_eq!(result, Err(LinkDetailError::NotFound));
    }

    #[test]
    fn an_admin_reads_anyones_link() {
        let mut analytics = MockAnalyticsQuery::new();
        analytics.expect_click_count().returning(|_| Ok(1));
        let admin = Caller::Key {
            id: KeyId(1),
            role: Role::Admin,
        };

        let detail = block_on(link_detail(&repo_with_link(), &analytics, admin, code())).unwrap();

        assert_eq!(detail.link.owner, Some(KeyId(5)));
    }

    #[test]
    fn nobody_in_particular_reads_nothing() {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().never();

        let result = block_on(link_detail(
            &repo,
            &MockAnalyticsQuery::new(),
            Caller::Anonymous,
            code(),
        ));

        assert_eq!(result, Err(LinkDetailError::Unauthenticated));
    }
}
