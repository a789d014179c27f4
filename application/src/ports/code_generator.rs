use domain::ShortCode;

/// Draws candidate short codes, injected so that tests can force collisions.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait CodeGenerator: Send + Sync + 'static {
    fn generate(&self) -> ShortCode;
}

/// Codes from the thread-local CSPRNG (ChaCha, seeded from the operating system).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomCodes;

impl CodeGenerator for RandomCodes {
    fn generate(&self) -> ShortCode {
        ShortCode::generate(&mut rand::rng())
    }
}
