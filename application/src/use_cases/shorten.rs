use domain::{Caller, Link, LongUrl, PolicyError, UrlPolicy};

use crate::ports::{Clock, CodeGenerator, RepoError, UrlRepo};

/// How many fresh codes to draw before giving up. With 62^8 codes a second collision in a row
/// means something is wrong (a broken generator, a full table), not bad luck.
pub const MAX_TRIES: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortenError {
    #[error("shortening needs an API key here")]
    Unauthenticated,
    /// The target breaks the operator's URL policy: the caller's mistake, with the reason.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    #[error("no free short code after {tries} tries")]
    NoFreeCode { tries: u32 },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// What the operator decided about shortening.
#[derive(Debug, Clone)]
pub struct ShortenRules {
    /// Which targets a link may have.
    pub url_policy: UrlPolicy,
    /// Whether a caller without a key may shorten (`auth.anonymous_shorten`); such links
    /// belong to no key.
    pub anonymous: bool,
}

/// Stores the URL under a new random code, drawing again when a code is taken, once the
/// caller may shorten and the URL passes the policy. The link belongs to the caller's key.
///
/// # Errors
/// [`ShortenError::Unauthenticated`] without a key unless anonymous shortening is on;
/// [`ShortenError::Refused`] for a target the policy refuses; [`ShortenError::NoFreeCode`]
/// after [`MAX_TRIES`] collisions; [`ShortenError::Repo`] when the store fails.
pub async fn shorten(
    repo: &impl UrlRepo,
    codes: &impl CodeGenerator,
    clock: &impl Clock,
    rules: &ShortenRules,
    caller: Caller,
    url: LongUrl,
) -> Result<Link, ShortenError> {
    if caller == Caller::Anonymous && !rules.anonymous {
        return Err(ShortenError::Unauthenticated);
    }
    rules.url_policy.check(&url)?;
    for _ in 0..MAX_TRIES {
        let link = Link {
            code: codes.generate(),
            url: url.clone(),
            created_at: clock.now(),
            owner: caller.key(),
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
    use domain::{AddressRange, Blocklist, KeyId, Role, ShortCode};
    use futures::executor::block_on;
    use mockall::Sequence;
    use rstest::rstest;

    use super::*;
    use crate::ports::{MockClock, MockCodeGenerator, MockUrlRepo};

    fn url() -> LongUrl {
        LongUrl::parse("https://example.com/").unwrap()
    }

    const MEMBER: Caller = Caller::Key {
        id: KeyId(5),
        role: Role::Member,
    };

    fn rules() -> ShortenRules {
        ShortenRules {
            url_policy: UrlPolicy::new("https://sho.rt", Blocklist::default(), false),
            anonymous: false,
        }
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
            .withf(|link| {
                link.code.as_str() == "first111"
                    && link.url == url()
                    && link.owner == Some(KeyId(5))
            })
            .once()
            .returning(|_| Ok(()));

        let link = block_on(shorten(
            &repo,
            &codes(&["first111"]),
            &fixed_clock(),
            &rules(),
            MEMBER,
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
            &rules(),
            MEMBER,
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

        let result = block_on(shorten(
            &repo,
            &codes,
            &fixed_clock(),
            &rules(),
            MEMBER,
            url(),
        ));

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
            &rules(),
            MEMBER,
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
            &rules(),
            MEMBER,
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

    #[rstest]
    #[case(false, Err(ShortenError::Unauthenticated))]
    #[case(true, Ok(None))]
    fn nobody_in_particular_shortens_only_where_allowed(
        #[case] anonymous: bool,
        #[case] expected: Result<Option<KeyId>, ShortenError>,
    ) {
        let mut repo = MockUrlRepo::new();
        repo.expect_insert()
            .times(usize::from(anonymous))
            .returning(|_| Ok(()));
        let codes = if anonymous {
            codes(&["anon1111"])
        } else {
            MockCodeGenerator::new()
        };
        let clock = if anonymous {
            fixed_clock()
        } else {
            MockClock::new()
        };
        let rules = ShortenRules {
            anonymous,
            ..rules()
        };

        let result = block_on(shorten(
            &repo,
            &codes,
            &clock,
            &rules,
            Caller::Anonymous,
            url(),
        ));

        assert_eq!(result.map(|link| link.owner), expected);
    }
}
