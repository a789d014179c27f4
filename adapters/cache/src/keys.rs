//! A [`KeyStore`] decorator that remembers valid keys for a short time, so that authenticating
//! a request costs no database round trip.
//!
//! - Only valid keys are remembered: a key made a moment ago works at once, and an unknown or
//!   revoked key is looked up each time it is presented (the rate limits bound how often).
//! - A key revoked through any process stops working here within `ttl`; revoked through this
//!   one, at once. That bound is the README's "revocation takes effect within".
//! - Concurrent lookups of one key are coalesced into one call to the store.

use std::sync::Arc;
use std::time::Duration;

use application::ports::{KeyRecord, KeyStore, NewKey, RepoError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyId};
use moka::future::Cache;

/// More keys than a deployment has: the bound is against a flood, not a working set.
const MAX_KEYS: u64 = 10_000;

pub struct CachedKeyStore<K> {
    store: Arc<K>,
    valid: Cache<KeyHash, KeyRecord>,
}

impl<K: KeyStore> CachedKeyStore<K> {
    pub fn new(store: K, ttl: Duration) -> Self {
        Self {
            store: Arc::new(store),
            valid: Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(ttl)
                .build(),
        }
    }
}

/// Why a lookup cached nothing.
enum Unusable {
    NotValid(Option<KeyRecord>),
    Failed(RepoError),
}

#[async_trait]
impl<K: KeyStore> KeyStore for CachedKeyStore<K> {
    async fn find(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, RepoError> {
        let store = Arc::clone(&self.store);
        let hash = *hash;
        let found = self
            .valid
            .try_get_with(hash, async move {
                match store.find(&hash).await {
                    Ok(Some(key)) if key.revoked_at.is_none() => Ok(key),
                    Ok(other) => Err(Unusable::NotValid(other)),
                    Err(e) => Err(Unusable::Failed(e)),
                }
            })
            .await;
        match found {
            Ok(key) => Ok(Some(key)),
            Err(unusable) => match &*unusable {
                Unusable::NotValid(other) => Ok(other.clone()),
                Unusable::Failed(e) => Err(e.clone()),
            },
        }
    }

    async fn create(&self, key: &NewKey) -> Result<KeyRecord, RepoError> {
        self.store.create(key).await
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, RepoError> {
        self.store.list().await
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<KeyRecord>, RepoError> {
        let revoked = self.store.revoke(id, at).await;
        // Only the hash is a key here, and revoking is rare: forget every key.
        self.valid.invalidate_all();
        revoked
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use application::ports::MockKeyStore;
    use domain::{ApiKey, Role};

    use super::*;

    fn record(revoked: bool) -> KeyRecord {
        KeyRecord {
            id: KeyId(3),
            name: "ci".into(),
            role: Role::Admin,
            created_at: Utc::now(),
            revoked_at: revoked.then(Utc::now),
        }
    }

    fn hash() -> KeyHash {
        ApiKey::from_secret([1; 32]).hash()
    }

    /// Whether the key the cache finds is revoked; `None` when it finds none.
    async fn revoked<K: KeyStore>(keys: &CachedKeyStore<K>) -> Option<bool> {
        let found = keys.find(&hash()).await.unwrap();
        found.map(|key| key.revoked_at.is_some())
    }

    /// A store that answers valid, then revoked.
    fn revoked_later() -> MockKeyStore {
        let mut store = MockKeyStore::new();
        let mut answers = vec![Ok(Some(record(true))), Ok(Some(record(false)))];
        store
            .expect_find()
            .times(2)
            .returning(move |_| answers.pop().unwrap());
        store
    }

    #[async_std::test]
    async fn a_valid_key_is_looked_up_once() {
        let mut store = MockKeyStore::new();
        let stored = record(false);
        store
            .expect_find()
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
        let keys = CachedKeyStore::new(store, Duration::from_secs(60));

        for _ in 0..3 {
            assert_eq!(keys.find(&hash()).await.unwrap().unwrap().id, KeyId(3));
        }
    }

    #[async_std::test]
    async fn unknown_revoked_and_failed_lookups_are_not_remembered() {
        let mut store = MockKeyStore::new();
        let mut answers = vec![
            Ok(Some(record(false))),
            Err(RepoError::Unavailable("down".into())),
            Ok(Some(record(true))),
            Ok(None),
        ];
        store
            .expect_find()
            .times(4)
            .returning(move |_| answers.pop().unwrap());
        let keys = CachedKeyStore::new(store, Duration::from_secs(60));

        assert_eq!(keys.find(&hash()).await, Ok(None));
        assert_eq!(revoked(&keys).await, Some(true));
        assert!(keys.find(&hash()).await.is_err());
        assert_eq!(revoked(&keys).await, Some(false));
    }

    #[async_std::test]
    async fn a_key_revoked_here_is_forgotten_at_once() {
        let mut store = revoked_later();
        store
            .expect_revoke()
            .times(1)
            .returning(|_, _| Ok(Some(record(true))));
        let keys = CachedKeyStore::new(store, Duration::from_secs(60));

        assert_eq!(revoked(&keys).await, Some(false));
        keys.revoke(KeyId(3), Utc::now()).await.unwrap();
        assert_eq!(revoked(&keys).await, Some(true));
    }

    #[async_std::test]
    async fn a_key_revoked_elsewhere_is_forgotten_after_the_ttl() {
        let keys = CachedKeyStore::new(revoked_later(), Duration::from_millis(50));

        assert_eq!(revoked(&keys).await, Some(false));
        async_std::task::sleep(Duration::from_millis(120)).await;
        assert_eq!(revoked(&keys).await, Some(true));
    }
}
