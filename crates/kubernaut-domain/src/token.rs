//! API tokens: who a caller is. A token's secret is shown once at creation; only its SHA-256
//! is stored, and a request's secret is looked up by that hash.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::Grants;
use crate::error::{ValidationError, shorten};

/// The prefix of every generated token secret.
pub const TOKEN_PREFIX: &str = "knt_";

/// The actor of changes made by the server itself (the first admin token, `admin-token`).
pub const SERVER_ACTOR: &str = "kubernaut-server";

/// The name of the first global-admin token, created at the first start.
pub const BOOTSTRAP_TOKEN_NAME: &str = "admin";

/// A token's name: 1..=63 characters of `[a-z0-9._-]`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenName(String);

impl TokenName {
    /// Validates a token name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() {
            return Err(ValidationError::Missing { field: "name" });
        }
        let bytes = value.as_bytes();
        let valid = bytes.len() <= 63
            && bytes[0].is_ascii_alphanumeric()
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::InvalidTokenName(shorten(value)))
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TokenName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long a token lives, in days: 1..=3650, 90 unless given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresInDays(u16);

impl ExpiresInDays {
    /// The default lifetime.
    pub const DEFAULT: ExpiresInDays = ExpiresInDays(90);

    /// Validates a lifetime in days.
    pub fn new(days: i64) -> Result<Self, ValidationError> {
        u16::try_from(days)
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(Self)
            .ok_or(ValidationError::InvalidExpiry(days))
    }

    /// When a token created at `now` expires.
    pub fn after(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::days(i64::from(self.0))
    }
}

/// The SHA-256 of a token secret, in lowercase hex: what is stored and looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretHash(String);

impl SecretHash {
    /// Hashes a secret as a request presents it.
    pub fn of(secret: &str) -> Self {
        Self(
            Sha256::digest(secret.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a configured bootstrap secret: 32..=256 printable ASCII characters.
pub fn validate_bootstrap_secret(secret: &str) -> Result<(), ValidationError> {
    let valid = (32..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(ValidationError::InvalidBootstrapToken(secret.len()))
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its id.
    pub id: Uuid,
    /// Its name, which records its changes (`createdBy`, audit actor).
    pub name: TokenName,
    /// What it may do.
    pub grants: Grants,
    /// When it was created.
    pub created_on: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it stops working; `None` for never.
    pub expires_on: Option<DateTime<Utc>>,
    /// When it was last used (written at most once a minute).
    pub last_used_on: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_on: Option<DateTime<Utc>>,
}

impl Token {
    /// Whether it authenticates requests at `now`: neither revoked nor expired.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_on.is_none() && self.expires_on.is_none_or(|at| now < at)
    }
}

/// A validated request to store a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its name.
    pub name: TokenName,
    /// Its grants.
    pub grants: Grants,
    /// When it expires; `None` for never.
    pub expires_on: Option<DateTime<Utc>>,
    /// Who creates it.
    pub created_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names() {
        for ok in ["ci-hello-world", "a", "x.y_z-1", "0ci", &"a".repeat(63)] {
            assert!(TokenName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-ci", ".ci", "CI", "ci hello", "ci/x", &"a".repeat(64)] {
            assert!(TokenName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expiry_days() {
        assert!(ExpiresInDays::new(0).is_err());
        assert!(ExpiresInDays::new(3651).is_err());
        assert!(ExpiresInDays::new(-1).is_err());
        let now = Utc::now();
        assert_eq!(
            ExpiresInDays::new(1).unwrap().after(now),
            now + chrono::Duration::days(1)
        );
        assert_eq!(
            ExpiresInDays::new(3650).unwrap(),
            ExpiresInDays(3650),
            "the upper bound is allowed"
        );
    }

    #[test]
    fn secrets_are_hashed_with_sha256() {
        assert_eq!(
            SecretHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bootstrap_secrets() {
        assert!(validate_bootstrap_secret(&"x".repeat(32)).is_ok());
        assert!(validate_bootstrap_secret(&"x".repeat(256)).is_ok());
        assert!(validate_bootstrap_secret(&"x".repeat(31)).is_err());
        assert!(validate_bootstrap_secret(&"x".repeat(257)).is_err());
        assert!(validate_bootstrap_secret(&format!("{} ", "x".repeat(32))).is_err());
        assert!(validate_bootstrap_secret(&format!("{}é", "x".repeat(32))).is_err());
    }

    #[test]
    fn a_revoked_or_expired_token_is_invalid() {
        let now = Utc::now();
        let mut token = Token {
            id: Uuid::nil(),
            name: TokenName::parse("ci").unwrap(),
            grants: Grants::global_admin(),
            created_on: now,
            created_by: "admin".into(),
            expires_on: None,
            last_used_on: None,
            revoked_on: None,
        };
        assert!(token.is_valid_at(now));
        token.expires_on = Some(now);
        assert!(!token.is_valid_at(now));
        token.expires_on = Some(now + chrono::Duration::seconds(1));
        assert!(token.is_valid_at(now));
        token.revoked_on = Some(now);
        assert!(!token.is_valid_at(now));
    }
}
