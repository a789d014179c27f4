use chrono::{DateTime, Utc};

use crate::{KeyId, LongUrl, ShortCode};

/// A short code bound to the URL it redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub code: ShortCode,
    pub url: LongUrl,
    pub created_at: DateTime<Utc>,
    /// The API key that made it; `None` when it was made anonymously (only admins manage it).
    pub owner: Option<KeyId>,
}
