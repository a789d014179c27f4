use domain::{ClickEvent, LongUrl, ShortCode, Visit};

use crate::ports::{ClickPublisher, Clock, RepoError, UrlRepo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("no link has this short code")]
    NotFound,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Finds where a code leads and records the click.
///
/// The click is handed to the publisher, which only queues it: the redirect never waits for
/// delivery, and a publisher failure is logged, never returned. Losing a click beats losing the
/// visitor.
///
/// # Errors
/// [`RedirectError::NotFound`] for an unknown code; [`RedirectError::Repo`] when the store fails.
pub async fn redirect(
    repo: &impl UrlRepo,
    publisher: &impl ClickPublisher,
    clock: &impl Clock,
    code: ShortCode,
    visit: Visit,
) -> Result<LongUrl, RedirectError> {
    let url = resolve(repo, code).await?;
    if let Err(e) = publisher.publish(ClickEvent::new(code, visit, clock.now())) {
        tracing::warn!(%code, error = %e, "click lost");
    }
    Ok(url)
}

/// Where a code leads, without a click: for a request that asks about the link rather than
/// follows it (an HTTP HEAD from a link previewer or an uptime check).
///
/// # Errors
/// [`RedirectError::NotFound`] for an unknown code; [`RedirectError::Repo`] when the store fails.
pub async fn resolve(repo: &impl UrlRepo, code: ShortCode) -> Result<LongUrl, RedirectError> {
    let link = repo.find(&code).await?.ok_or(RedirectError::NotFound)?;
    Ok(link.url)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use domain::Link;
    use futures::executor::block_on;
    use rstest::rstest;

    use super::*;
    use crate::ports::{MockClickPublisher, MockClock, MockUrlRepo, PublishError};

    fn code() -> ShortCode {
        ShortCode::parse("abcDEF12").unwrap()
    }

    fn clock() -> MockClock {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        clock
    }

    fn repo_with_link() -> MockUrlRepo {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().once().returning(|code| {
            Ok(Some(Link {
                code: *code,
                url: LongUrl::parse("https://example.com/target").unwrap(),
                created_at: DateTime::from_timestamp(1_600_000_000, 0).unwrap(),
                owner: None,
            }))
        });
        repo
    }

    fn visit() -> Visit {
        Visit::new(
            Some("203.0.113.9".parse().unwrap()),
            Some("curl/8"),
            Some("https://news.example/"),
        )
    }

    #[rstest]
    #[case::published(Ok(()))]
    // Losing the click must not lose the visitor.
    #[case::publisher_failed(Err(PublishError::Rejected("queue full".into())))]
    fn redirects_and_hands_over_one_click(#[case] published: Result<(), PublishError>) {
        let mut publisher = MockClickPublisher::new();
        publisher
            .expect_publish()
            .withf(|event| {
                event.short_code == code()
                    && event.visit == visit()
                    && event.occurred_at.timestamp() == 1_700_000_000
            })
            .once()
            .return_once(move |_| published);

        let url = block_on(redirect(
            &repo_with_link(),
            &publisher,
            &clock(),
            code(),
            visit(),
        ));

        assert_eq!(url.unwrap().as_str(), "https://example.com/target");
    }

    #[test]
    fn resolving_answers_like_a_redirect_without_a_click() {
        let url = block_on(resolve(&repo_with_link(), code()));

        assert_eq!(url.unwrap().as_str(), "https://example.com/target");
    }

    #[test]
    fn an_unknown_code_is_not_found_and_publishes_nothing() {
        let mut repo = MockUrlRepo::new();
        repo.expect_find().once().returning(|_| Ok(None));
        let mut publisher = MockClickPublisher::new();
        publisher.expect_publish().never();

        let result = block_on(redirect(&repo, &publisher, &clock(), code(), visit()));

        assert_eq!(result, Err(RedirectError::NotFound));
    }

    #[test]
    fn a_store_failure_is_reported_and_publishes_nothing() {
        let mut repo = MockUrlRepo::new();
        repo.expect_find()
            .once()
            .returning(|_| Err(RepoError::Unavailable("timeout".into())));
        let mut publisher = MockClickPublisher::new();
        publisher.expect_publish().never();

        let result = block_on(redirect(&repo, &publisher, &clock(), code(), visit()));

        assert_eq!(
            result,
            Err(RedirectError::Repo(RepoError::Unavailable(
                "timeout".into()
            )))
        );
    }
}
