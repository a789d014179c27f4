use domain::ShortCode;

use crate::ports::{RepoError, UrlRepo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteLinkError {
    #[error("no link has this short code")]
    NotFound,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Removes a link, after which its code no longer redirects. Its clicks stay in analytics.
///
/// # Errors
/// [`DeleteLinkError::NotFound`] for an unknown code; [`DeleteLinkError::Repo`] when the store
/// fails.
pub async fn delete_link(repo: &impl UrlRepo, code: ShortCode) -> Result<(), DeleteLinkError> {
    if repo.delete(&code).await? {
        Ok(())
    } else {
        Err(DeleteLinkError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use rstest::rstest;

    use super::*;
    use crate::ports::MockUrlRepo;

    #[rstest]
    #[case(Ok(true), Ok(()))]
    #[case(Ok(false), Err(DeleteLinkError::NotFound))]
    #[case(
        Err(RepoError::Unavailable("down".into())),
        Err(DeleteLinkError::Repo(RepoError::Unavailable("down".into())))
    )]
    fn maps_the_store_answer(
        #[case] stored: Result<bool, RepoError>,
        #[case] expected: Result<(), DeleteLinkError>,
    ) {
        let code = ShortCode::parse("abcDEF12").unwrap();
        let mut repo = MockUrlRepo::new();
        repo.expect_delete()
            .withf(move |c| *c == code)
            .once()
            .return_once(move |_| stored);

        assert_eq!(block_on(delete_link(&repo, code)), expected);
    }
}
