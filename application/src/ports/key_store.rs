use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyId, Role};

use crate::ports::RepoError;

/// What is known of a key: never the key itself, which is shown once and then only its hash
/// is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key to store: its hash, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub hash: KeyHash,
    pub created_at: DateTime<Utc>,
}

/// Where API keys live. Keys are revoked, never deleted: the links they made still name them.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// The key with this hash, revoked or not.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected` ([`RepoError`]'s meanings).
    async fn find(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, RepoError>;

    /// Stores a new key.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`.
    async fn create(&self, key: &NewKey) -> Result<KeyRecord, RepoError>;

    /// Every key, oldest first.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`.
    async fn list(&self) -> Result<Vec<KeyRecord>, RepoError>;

    /// Marks the key revoked at `at`, unless it already was; `Ok(None)` when there is no such
    /// key.
    ///
    /// # Errors
    /// `Unavailable`, `Rejected` or `Unexpected`.
    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<KeyRecord>, RepoError>;
}
