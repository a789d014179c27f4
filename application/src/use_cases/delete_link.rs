use domain::{Caller, LinkEvent, ShortCode, Visibility};

use crate::ports::{LinkEventPublisher, RepoError, UrlRepo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteLinkError {
    #[error("deleting a link needs an API key")]
    Unauthenticated,
    #[error("no link has this short code")]
    NotFound,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Removes a link, after which its code no longer redirects. Its clicks stay in analytics. A
/// member may remove only its own links; anyone else's is not found, so that a member learns
/// nothing of what exists beyond its own. The other replicas are told, so that they stop
/// redirecting it too; also when the store failed, since it may have deleted before failing
/// to answer (a copy dropped for nothing costs one lookup).
///
/// # Errors
/// [`DeleteLinkError::Unauthenticated`] without a key; [`DeleteLinkError::NotFound`] for an
/// unknown code or another's link; [`DeleteLinkError::Repo`] when the store fails.
pub async fn delete_link(
    repo: &impl UrlRepo,
    events: &impl LinkEventPublisher,
    caller: Caller,
    code: ShortCode,
) -> Result<(), DeleteLinkError> {
    match caller.visibility() {
        Visibility::Nothing => return Err(DeleteLinkError::Unauthenticated),
        Visibility::OwnedBy(_) => {
            // A link's owner never changes, so a check before the delete can't go stale.
            let link = repo.find(&code).await?;
            if !link.is_some_and(|link| caller.may_manage(link.owner)) {
                return Err(DeleteLinkError::NotFound);
            }
        }
        Visibility::Every => {}
    }
    let deleted = repo.delete(&code).await;
    if !matches!(deleted, Ok(false)) {
        events.publish(LinkEvent::Deleted(code));
    }
    if deleted? {
        Ok(())
    } else {
        Err(DeleteLinkError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use domain::{KeyId, Link, LongUrl, Role};
    use futures::executor::block_on;
    use rstest::rstest;

    use super::*;
    use crate::ports::{MockLinkEventPublisher, MockUrlRepo};

    const ADMIN: Caller = Caller::Key {
        id: KeyId(1),
        role: Role::Admin,
    };
    const MEMBER: Caller = Caller::Key {
        id: KeyId(5),
        role: Role::Member,
    };

    fn code() -> ShortCode {
        ShortCode::parse("abcDEF12").unwrap()
    }

    /// A publisher expecting `times` deletions of `code()`.
    fn told(times: usize) -> MockLinkEventPublisher {
        let mut events = MockLinkEventPublisher::new();
        events
            .expect_publish()
            .withf(|event| *event == LinkEvent::Deleted(code()))
            .times(times)
            .return_const(());
        events
    }

    #[rstest]
    #[case(Ok(true), Ok(()), 1)]
    #[case(Ok(false), Err(DeleteLinkError::NotFound), 0)]
    #[case(
        Err(RepoError::Unavailable("down".into())),
        Err(DeleteLinkError::Repo(RepoError::Unavailable("down".into()))),
        1
    )]
    fn maps_the_store_answer_and_tells_the_replicas_unless_nothing_was_there(
        #[case] stored: Result<bool, RepoError>,
        #[case] expected: Result<(), DeleteLinkError>,
        #[case] published: usize,
    ) {
        let code = ShortCode::parse("abcDEF12").unwrap();
        let mut repo = MockUrlRepo::new();
        repo.expect_delete()
            .withf(move |c| *c == code)
            .once()
            .return_once(move |_| stored);

        assert_eq!(
            block_on(delete_link(&repo, &told(published), ADMIN, code)),
            expected
        );
    }

    fn owned_by(owner: Option<KeyId>) -> MockUrlRepo {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().once().returning(move |code| {
            Ok(Some(Link {
                code: *code,
                url: LongUrl::parse("https://example.com/").unwrap(),
                created_at: DateTime::from_timestamp(1_600_000_000, 0).unwrap(),
                owner,
            }))
        });
        repo
    }

    #[test]
    fn a_member_deletes_its_own_link() {
        let mut repo = owned_by(Some(KeyId(5)));
        repo.expect_delete().once().returning(|_| Ok(true));
        assert_eq!(
            block_on(delete_link(&repo, &told(1), MEMBER, code())),
            Ok(())
        );
    }

    #[rstest]
    #[case(Some(KeyId(6)))]
    #[case(None)]
    fn anothers_link_is_not_found_by_a_member_and_stays(#[case] owner: Option<KeyId>) {
        let mut repo = owned_by(owner);
        repo.expect_delete().never();
        assert_eq!(
            block_on(delete_link(&repo, &told(0), MEMBER, code())),
            Err(DeleteLinkError::NotFound)
        );
    }

    #[test]
    fn nobody_in_particular_deletes_nothing() {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().never();
        repo.expect_delete().never();
        assert_eq!(
            block_on(delete_link(&repo, &told(0), Caller::Anonymous, code())),
            Err(DeleteLinkError::Unauthenticated)
        );
    }
}
