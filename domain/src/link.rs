use chrono::{DateTime, Utc};

use crate::{LongUrl, ShortCode};

/// A short code bound to the URL it redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub code: ShortCode,
    pub url: LongUrl,
    pub created_at: DateTime<Utc>,
}
