//! API keys and who a caller is.
//!
//! A key is 32 random bytes, written `sk_` and 43 characters of unpadded base64url, so that it
//! is recognisable in a leaked file and a secret scanner can find it. Only its SHA-256 hash is
//! stored. A fast hash is right here, unlike for passwords: a key carries 256 bits from a
//! CSPRNG, so no attacker who reads the hashes can search that space however fast each guess
//! is, and slow salted hashes (argon2, bcrypt) defend only low-entropy secrets. An unsalted
//! hash also makes the lookup one indexed equality match on every request.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An API key's secret text. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a presented credential is not a key, whatever the store holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("an API key starts with sk_")]
    Prefix,
    #[error("an API key is sk_ and 43 base64url characters")]
    Shape,
}

impl ApiKey {
    pub const PREFIX: &'static str = "sk_";
    const ENCODED_LEN: usize = 43;

    /// The key for 32 secret bytes (from a CSPRNG: see the application's key generator).
    pub fn from_secret(bytes: [u8; 32]) -> Self {
        Self(format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// # Errors
    /// When the text can't be a key: wrong prefix, length or alphabet.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let encoded = text.strip_prefix(Self::PREFIX).ok_or(KeyError::Prefix)?;
        if encoded.len() != Self::ENCODED_LEN {
            return Err(KeyError::Shape);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| KeyError::Shape)?;
        // Only the canonical spelling of 32 bytes: the last character carries 2 spare bits,
        // and two spellings of one key would hash differently.
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Shape)?;
        let key = Self::from_secret(bytes);
        if key.0 == text {
            Ok(key)
        } else {
            Err(KeyError::Shape)
        }
    }

    /// What the store keeps and looks keys up by.
    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The secret itself, to show once to the person who created it.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(sk_***)")
    }
}

/// The SHA-256 of a key's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

/// The store's name for a key, shown by `admin keys list` and used to revoke it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub i64);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a key may do: an `admin` manages every link, a `member` only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the role '{0}' does not exist; use admin or member")]
pub struct RoleError(pub String);

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            other => Err(RoleError(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is asking: a valid key's holder, or nobody in particular.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Key { id: KeyId, role: Role },
}

/// Which links a caller's listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Every,
    OwnedBy(KeyId),
    Nothing,
}

impl Caller {
    /// The key new links of this caller belong to.
    pub fn key(self) -> Option<KeyId> {
        match self {
            Self::Key { id, .. } => Some(id),
            Self::Anonymous => None,
        }
    }

    /// The links this caller may see and manage.
    pub fn visibility(self) -> Visibility {
        match self {
            Self::Key {
                role: Role::Admin, ..
            } => Visibility::Every,
            Self::Key {
                id,
                role: Role::Member,
            } => Visibility::OwnedBy(id),
            Self::Anonymous => Visibility::Nothing,
        }
    }

    /// Whether this caller may see and manage a link that belongs to `owner` (`None`: made
    /// anonymously, which only admins manage).
    pub fn may_manage(self, owner: Option<KeyId>) -> bool {
        match self.visibility() {
            Visibility::Every => true,
            Visibility::OwnedBy(id) => owner == Some(id),
            Visibility::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const SECRET: [u8; 32] = [7; 32];

    #[test]
    fn a_key_is_its_prefix_and_43_base64url_characters() {
        let key = ApiKey::from_secret(SECRET);
        assert_eq!(
            key.reveal(),
            "sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
        );
        assert_eq!(ApiKey::parse(key.reveal()), Ok(key));
    }

    #[rstest]
    #[case("", KeyError::Prefix)]
    #[case("Bearer sk_x", KeyError::Prefix)]
    #[case("SK_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", KeyError::Prefix)]
    #[case("sk_", KeyError::Shape)]
    #[case("sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw", KeyError::Shape)]
    #[case("sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH", KeyError::Shape)]
    #[case("sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw=", KeyError::Shape)]
    #[case("sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHB+c", KeyError::Shape)]
    // The same 32 bytes with the spare bits of the last character set: not the canonical key.
    #[case("sk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwd", KeyError::Shape)]
    fn what_is_not_a_key_is_refused(#[case] text: &str, #[case] error: KeyError) {
        assert_eq!(ApiKey::parse(text), Err(error));
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_text() {
        let key = ApiKey::from_secret([0; 32]);
        let hex: String = key.hash().0.iter().map(|b| format!("{b:02x}")).collect();
        // printf %s sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | sha256sum
        assert_eq!(
            hex,
            "12576e7a680e2c3225b7d080cd3e1484262cfd95d5596652e4649a8325ac8ea8"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKey::from_secret(SECRET);
        assert_eq!(format!("{key:?}"), "ApiKey(sk_***)");
    }

    #[rstest]
    #[case("admin", Ok(Role::Admin))]
    #[case("member", Ok(Role::Member))]
    #[case("Admin", Err(RoleError("Admin".into())))]
    #[case("root", Err(RoleError("root".into())))]
    fn roles_are_read_by_name(#[case] text: &str, #[case] role: Result<Role, RoleError>) {
        assert_eq!(text.parse::<Role>(), role);
        if let Ok(role) = role {
            assert_eq!(role.to_string(), text);
        }
    }

    const ME: KeyId = KeyId(1);
    const OTHER: KeyId = KeyId(2);

    #[rstest]
    #[case(Caller::Key { id: ME, role: Role::Admin }, Some(OTHER), true)]
    #[case(Caller::Key { id: ME, role: Role::Admin }, None, true)]
    #[case(Caller::Key { id: ME, role: Role::Member }, Some(ME), true)]
    #[case(Caller::Key { id: ME, role: Role::Member }, Some(OTHER), false)]
    #[case(Caller::Key { id: ME, role: Role::Member }, None, false)]
    #[case(Caller::Anonymous, None, false)]
    #[case(Caller::Anonymous, Some(OTHER), false)]
    fn who_manages_which_link(
        #[case] caller: Caller,
        #[case] owner: Option<KeyId>,
        #[case] allowed: bool,
    ) {
        assert_eq!(caller.may_manage(owner), allowed);
    }

    #[test]
    fn listings_follow_the_role() {
        let admin = Caller::Key {
            id: ME,
            role: Role::Admin,
        };
        let member = Caller::Key {
            id: ME,
            role: Role::Member,
        };
        assert_eq!(admin.visibility(), Visibility::Every);
        assert_eq!(member.visibility(), Visibility::OwnedBy(ME));
        assert_eq!(Caller::Anonymous.visibility(), Visibility::Nothing);
        assert_eq!(member.key(), Some(ME));
        assert_eq!(Caller::Anonymous.key(), None);
    }
}
