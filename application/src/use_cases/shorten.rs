use domain::{Link, LongUrl, PolicyError, UrlPolicy};

use crate::ports::{Clock, CodeGenerator, RepoError, UrlRepo};

/// How many fresh codes to draw before giving up. With 62^8 codes a second collision in a row
/// means something is wrong (a broken generator, a full table), not bad luck.
pub const MAX_TRIES: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortenError {
    /// The target breaks the operator's URL policy: the caller's mistake, with the reason.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    #[error("no free short code after {tries} tries")]
    NoFreeCode { tries: u32 },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Stores the URL under a new random code, drawing again when a code is taken, once the URL
/// passes the policy.
///
/// # Errors
/// [`ShortenError::Refused`] for a target the policy refuses; [`ShortenError::NoFreeCode`]
/// after [`MAX_TRIES`] collisions; [`ShortenError::Repo`] when the store fails.
pub async fn shorten(
    repo: &impl UrlRepo,
    codes: &impl CodeGenerator,
    clock: &impl Clock,
    policy: &UrlPolicy,
    url: LongUrl,
) -> Result<Link, ShortenError> {
    policy.check(&url)?;
    for _ in 0..MAX_TRIES {
        let link = Link {
            code: codes.generate(),
            url: url.clone(),
            created_at: clock.now(),
        };
        match repo.insert(&link).await {
            Ok(()) => return Ok(link),
            Err(RepoError::CodeTaken) => {
                tracing::info!(code = %link.code, "short code collision; drawing another");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ShortenError::NoFreeCode { tries: MAX_TRIES })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use domain::{AddressRange, Blocklist, ShortCode};
    use futures::executor::block_on;
    use mockall::Sequence;

    use super::*;
    use crate::ports::{MockClock, MockCodeGenerator, MockUrlRepo};

    fn url() -> LongUrl {
        LongUrl::parse("https://example.com/").unwrap()
    }

    fn policy() -> UrlPolicy {
        UrlPolicy::new("https://sho.rt", Blocklist::default(), false)
    }

    fn fixed_clock() -> MockClock {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        clock
    }

    fn codes(names: &[&'static str]) -> MockCodeGenerator {
        let mut codes = MockCodeGenerator::new();
        let mut seq = Sequence::new();
        for name in names {
            codes
                .expect_generate()
                .times(1)
                .in_sequence(&mut seq)
                .return_const(ShortCode::parse(name).unwrap());
        }
        codes
    }

    #[test]
    fn stores_the_link_under_the_first_free_code() {
        let mut repo = MockUrlRepo::new();
        repo.expect_insert()
            .withf(|link| link.code.as_str() == "first111" && link.url == url())
            .once()
            .returning(|_| Ok(()));

        let link = block_on(shorten(
            &repo,
            &codes(&["first111"]),
            &fixed_clock(),
            &policy(),
            url(),
        ))
        .unwrap();

        assert_eq!(link.code.as_str(), "first111");
        assert_eq!(link.created_at.timestamp(), 1_700_000_000);
    }

    #[test]
    fn draws_again_after_a_collision() {
        let mut repo = MockUrlRepo::new();
        let mut seq = Sequence::new();
        repo.expect_insert()
            .withf(|link| link.code.as_str() == "taken111")
            .once()
            .in_sequence(&mut seq)
            .returning(|_| Err(RepoError::CodeTaken));
        repo.expect_insert()
            .withf(|link| link.code.as_str() == "free2222")
            .once()
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));

        let link = block_on(shorten(
            &repo,
            &codes(&["taken111", "free2222"]),
            &fixed_clock(),
            &policy(),
            url(),
        ))
        .unwrap();

        assert_eq!(link.code.as_str(), "free2222");
    }

    #[test]
    fn gives_up_after_five_collisions() {
        let mut repo = MockUrlRepo::new();
        repo.expect_insert()
            .times(5)
            .returning(|_| Err(RepoError::CodeTaken));
        let codes = codes(&["aaaaaaa1", "aaaaaaa2", "aaaaaaa3", "aaaaaaa4", "aaaaaaa5"]);

        let result = block_on(shorten(&repo, &codes, &fixed_clock(), &policy(), url()));

        assert_eq!(result, Err(ShortenError::NoFreeCode { tries: 5 }));
    }

    #[test]
    fn does_not_retry_when_the_store_fails() {
        let mut repo = MockUrlRepo::new();
        repo.expect_insert()
            .once()
            .returning(|_| Err(RepoError::Unavailable("connection refused".into())));

        let result = block_on(shorten(
            &repo,
            &codes(&["aaaaaaa1"]),
            &fixed_clock(),
            &policy(),
            url(),
        ));

        assert_eq!(
            result,
            Err(ShortenError::Repo(RepoError::Unavailable(
                "connection refused".into()
            )))
        );
    }

    #[test]
    fn refuses_a_target_the_policy_forbids_without_storing_it() {
        let mut repo = MockUrlRepo::new();
        repo.expect_insert().never();
        let metadata = LongUrl::parse("http://169.254.169.254/latest/meta-data/").unwrap();

        let result = block_on(shorten(
            &repo,
            &MockCodeGenerator::new(),
            &MockClock::new(),
            &policy(),
            metadata,
        ));

        assert_eq!(
            result,
            Err(ShortenError::Refused(PolicyError::NonPublicHost {
                host: "169.254.169.254".into(),
                range: AddressRange::LinkLocal,
            }))
        );
    }
}
