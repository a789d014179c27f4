use crate::ShortCode;

/// A change to a link that copies of it kept elsewhere (another replica's cache) must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// The link is gone: a copy of it must stop redirecting.
    Deleted(ShortCode),
}

impl LinkEvent {
    /// The link it is about.
    #[must_use]
    pub fn code(&self) -> ShortCode {
        match self {
            Self::Deleted(code) => *code,
        }
    }
}
