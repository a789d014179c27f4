use domain::ApiKey;
use rand::Rng;

/// Draws new API keys, injected so that tests can fix them.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait KeyGenerator: Send + Sync + 'static {
    fn generate(&self) -> ApiKey;
}

/// Keys of 32 bytes from the thread-local CSPRNG (ChaCha, seeded from the operating system).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomKeys;

impl KeyGenerator for RandomKeys {
    fn generate(&self) -> ApiKey {
        let mut secret = [0; 32];
        rand::rng().fill_bytes(&mut secret);
        ApiKey::from_secret(secret)
    }
}
