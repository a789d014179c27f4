//! Who a caller is, from the key they present, and the keys an operator manages with `admin`.

use domain::{ApiKey, Caller, KeyError, KeyId, Role};

use crate::ports::{Clock, KeyGenerator, KeyRecord, KeyStore, NewKey, RepoError};

/// Why a presented credential doesn't identify a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the API key is malformed: {0}")]
    Malformed(KeyError),
    #[error("the API key is not known")]
    Unknown,
    #[error("the API key has been revoked")]
    Revoked,
    /// The key store could not answer: not the caller's fault.
    #[error(transparent)]
    Store(#[from] RepoError),
}

/// The caller that `presented` (a key's text, from whatever header the adapter read it) makes:
/// nobody in particular when nothing was presented; an error when something was, and it is no
/// valid key. A wrong key is never quietly treated as no key.
///
/// # Errors
/// [`AuthError`]: malformed, unknown, revoked, or the store failing.
pub async fn authenticate(
    keys: &impl KeyStore,
    presented: Option<&str>,
) -> Result<Caller, AuthError> {
    let Some(text) = presented else {
        return Ok(Caller::Anonymous);
    };
    let key = ApiKey::parse(text).map_err(AuthError::Malformed)?;
    let record = keys.find(&key.hash()).await?.ok_or(AuthError::Unknown)?;
    if record.revoked_at.is_some() {
        return Err(AuthError::Revoked);
    }
    Ok(Caller::Key {
        id: record.id,
        role: record.role,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyAdminError {
    #[error("a key's name is 1 to {max} characters, without control characters", max = MAX_NAME_CHARS)]
    BadName,
    #[error("no key has the id {0}")]
    NotFound(KeyId),
    #[error(transparent)]
    Store(#[from] RepoError),
}

/// The longest name a key may have, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Makes a key. The returned [`ApiKey`] is the only time its text exists outside the caller's
/// hands: the store keeps its hash.
///
/// # Errors
/// [`KeyAdminError::BadName`]; [`KeyAdminError::Store`] when the store fails.
pub async fn create_key(
    keys: &impl KeyStore,
    generator: &impl KeyGenerator,
    clock: &impl Clock,
    name: &str,
    role: Role,
) -> Result<(KeyRecord, ApiKey), KeyAdminError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(KeyAdminError::BadName);
    }
    let key = generator.generate();
    let record = keys
        .create(&NewKey {
            name: name.to_owned(),
            role,
            hash: key.hash(),
            created_at: clock.now(),
        })
        .await?;
    Ok((record, key))
}

/// Every key, oldest first, without their secrets (which are not kept).
///
/// # Errors
/// [`KeyAdminError::Store`] when the store fails.
pub async fn list_keys(keys: &impl KeyStore) -> Result<Vec<KeyRecord>, KeyAdminError> {
    Ok(keys.list().await?)
}

/// Revokes a key; revoking a revoked key changes nothing and is not an error.
///
/// # Errors
/// [`KeyAdminError::NotFound`]; [`KeyAdminError::Store`] when the store fails.
pub async fn revoke_key(
    keys: &impl KeyStore,
    clock: &impl Clock,
    id: KeyId,
) -> Result<KeyRecord, KeyAdminError> {
    keys.revoke(id, clock.now())
        .await?
        .ok_or(KeyAdminError::NotFound(id))
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use futures::executor::block_on;
    use rstest::rstest;

    use super::*;
    use crate::ports::{MockClock, MockKeyGenerator, MockKeyStore};

    const SECRET: [u8; 32] = [9; 32];

    fn record(revoked: bool) -> KeyRecord {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        KeyRecord {
            id: KeyId(7),
            name: "ci".into(),
            role: Role::Member,
            created_at: at,
            revoked_at: revoked.then_some(at),
        }
    }

    fn store_with(found: Option<KeyRecord>) -> MockKeyStore {
        let hash = ApiKey::from_secret(SECRET).hash();
        let mut keys = MockKeyStore::new();
        keys.expect_find()
            .withf(move |h| *h == hash)
            .returning(move |_| Ok(found.clone()));
        keys
    }

    #[test]
    fn no_credential_is_an_anonymous_caller() {
        let mut keys = MockKeyStore::new();
        keys.expect_find().never();
        assert_eq!(block_on(authenticate(&keys, None)), Ok(Caller::Anonymous));
    }

    #[test]
    fn a_valid_key_is_its_holder() {
        let key = ApiKey::from_secret(SECRET);
        let caller = block_on(authenticate(
            &store_with(Some(record(false))),
            Some(key.reveal()),
        ));
        assert_eq!(
            caller,
            Ok(Caller::Key {
                id: KeyId(7),
                role: Role::Member
            })
        );
    }

    #[rstest]
    #[case(Some(record(true)), AuthError::Revoked)]
    #[case(None, AuthError::Unknown)]
    fn a_revoked_or_unknown_key_is_refused(
        #[case] found: Option<KeyRecord>,
        #[case] error: AuthError,
    ) {
        let key = ApiKey::from_secret(SECRET);
        assert_eq!(
            block_on(authenticate(&store_with(found), Some(key.reveal()))),
            Err(error)
        );
    }

    #[test]
    fn a_malformed_key_is_refused_without_asking_the_store() {
        let mut keys = MockKeyStore::new();
        keys.expect_find().never();
        assert_eq!(
            block_on(authenticate(&keys, Some("hunter2"))),
            Err(AuthError::Malformed(KeyError::Prefix))
        );
    }

    #[test]
    fn a_failing_store_is_not_the_callers_fault() {
        let mut keys = MockKeyStore::new();
        keys.expect_find()
            .returning(|_| Err(RepoError::Unavailable("down".into())));
        let key = ApiKey::from_secret(SECRET);
        assert_eq!(
            block_on(authenticate(&keys, Some(key.reveal()))),
            Err(AuthError::Store(RepoError::Unavailable("down".into())))
        );
    }

    #[test]
    fn a_new_key_is_stored_as_its_hash_and_returned_once() {
        let key = ApiKey::from_secret(SECRET);
        let mut generator = MockKeyGenerator::new();
        let made = key.clone();
        generator.expect_generate().return_once(move || made);
        let mut clock = MockClock::new();
        clock.expect_now().return_const(record(false).created_at);
        let mut keys = MockKeyStore::new();
        let hash = key.hash();
        keys.expect_create()
            .withf(move |new| new.hash == hash && new.name == "ci" && new.role == Role::Member)
            .once()
            .returning(|_| Ok(record(false)));

        let (stored, shown) =
            block_on(create_key(&keys, &generator, &clock, "  ci ", Role::Member)).unwrap();

        assert_eq!(stored, record(false));
        assert_eq!(shown, key);
    }

    #[rstest]
    #[case("")]
    #[case("   ")]
    #[case("a\u{0}b")]
    #[case(&"n".repeat(MAX_NAME_CHARS + 1))]
    fn a_bad_name_makes_no_key(#[case] name: &str) {
        let mut keys = MockKeyStore::new();
        keys.expect_create().never();
        let result = block_on(create_key(
            &keys,
            &MockKeyGenerator::new(),
            &MockClock::new(),
            name,
            Role::Admin,
        ));
        assert_eq!(result.map(|_| ()), Err(KeyAdminError::BadName));
    }

    #[test]
    fn revoking_an_unknown_key_says_so() {
        let mut keys = MockKeyStore::new();
        keys.expect_revoke().returning(|_, _| Ok(None));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(record(false).created_at);
        assert_eq!(
            block_on(revoke_key(&keys, &clock, KeyId(99))),
            Err(KeyAdminError::NotFound(KeyId(99)))
        );
    }
}
