//! Authentication: a bearer secret to a [`Principal`], through a short-lived cache so that a
//! busy token costs one indexed lookup per replica every few seconds, and a limit on failed
//! attempts per address.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kubernaut_domain::{SecretHash, TOKEN_PREFIX, Token};
use kubernaut_store::Store;
use uuid::Uuid;

use crate::caller::Principal;
use crate::error::AppError;

/// How long a resolved token is trusted without asking the database again: the longest a
/// revocation on another replica takes to be seen here.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// `lastUsedOn` is written when it is older than this, so at most about once a minute.
const LAST_USED_WINDOW: chrono::Duration = chrono::Duration::seconds(55);

/// The most tokens kept resolved; past it the cache starts over.
const MAX_CACHED: usize = 10_000;

/// The longest `Authorization` value looked at; longer ones are malformed.
const MAX_SECRET_BYTES: usize = 512;

/// How authentication is limited.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// Failed authentications one address may make in a minute before it gets 429s.
    pub max_failures_per_minute: u32,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            max_failures_per_minute: 30,
        }
    }
}

#[derive(Debug)]
struct Cached {
    principal: Arc<Principal>,
    fetched: Instant,
}

/// Resolves bearer secrets to principals.
pub struct Authenticator {
    cache: Mutex<HashMap<SecretHash, Cached>>,
    failures: DefaultKeyedRateLimiter<String>,
    blocked: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator with an empty cache.
    pub fn new(options: &AuthOptions) -> Self {
        let per_minute =
            NonZeroU32::new(options.max_failures_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            cache: Mutex::default(),
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::default(),
        }
    }

    /// The principal of an `Authorization` header's value, from `remote_addr`.
    pub(crate) async fn authenticate(
        &self,
        store: &Store,
        authorization: Option<&str>,
        remote_addr: Option<&str>,
    ) -> Result<Arc<Principal>, AppError> {
        let address = remote_addr.unwrap_or("unknown").to_owned();
        if let Some(wait) = self.blocked_for(&address) {
            return Err(AppError::Throttled(whole_seconds(wait)));
        }
        let secret = match bearer(authorization) {
            Ok(secret) => secret,
            Err(message) => return Err(self.failed(address, message)),
        };
        let hash = SecretHash::of(secret);
        let cached = self.lock_cache().get(&hash).and_then(|entry| {
            (entry.fetched.elapsed() < TOKEN_CACHE_TTL).then(|| entry.principal.clone())
        });
        let principal = match cached {
            Some(principal) => principal,
            None => {
                let store = store.clone();
                let lookup = hash.clone();
                let token = tokio::task::spawn_blocking(move || resolve(&store, &lookup))
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))??;
                let Some(token) = token else {
                    return Err(self.failed(
                        address,
                        "the token is unknown; check the secret, or ask an admin for a new token"
                            .to_owned(),
                    ));
                };
                if let Some(revoked) = token.revoked_on {
                    let message = format!("the token {} was revoked on {revoked}", token.name);
                    return Err(self.failed(address, message));
                }
                let principal = Arc::new(Principal::from(&token));
                let mut cache = self.lock_cache();
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
                cache.insert(
                    hash,
                    Cached {
                        principal: principal.clone(),
                        fetched: Instant::now(),
                    },
                );
                principal
            }
        };
        match principal.expires_on {
            Some(expired) if expired <= Utc::now() => Err(self.failed(
                address,
                format!("the token {} expired on {expired}", principal.name),
            )),
            _ => Ok(principal),
        }
    }

    /// Forgets a token at once on this replica (other replicas within [`TOKEN_CACHE_TTL`]).
    pub(crate) fn forget(&self, token_id: Uuid) {
        self.lock_cache()
            .retain(|_, entry| entry.principal.token_id != token_id);
    }

    /// Counts a failure from `address`: the error to answer, 401 or, past the limit, 429.
    fn failed(&self, address: String, message: String) -> AppError {
        if self.failures.len() > MAX_CACHED {
            self.failures.retain_recent();
        }
        match self.failures.check_key(&address) {
            Ok(()) => AppError::Unauthenticated(message),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
                blocked.retain(|_, until| *until > Instant::now());
                blocked.insert(address, Instant::now() + wait);
                AppError::Throttled(whole_seconds(wait))
            }
        }
    }

    fn blocked_for(&self, address: &str) -> Option<Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        blocked
            .get(address)
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|wait| !wait.is_zero())
    }

    fn lock_cache(&self) -> MutexGuard<'_, HashMap<SecretHash, Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `wait` rounded up to whole seconds, at least 1: a client that waits that long is let in.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The secret of `Bearer <secret>`, or why the header is refused (never echoing it).
fn bearer(authorization: Option<&str>) -> Result<&str, String> {
    let value = authorization.ok_or_else(|| {
        "this endpoint needs a token: send the header Authorization: Bearer <token>".to_owned()
    })?;
    let malformed = || {
        format!(
            "the Authorization header must be \"Bearer <token>\" with a token such as \
             {TOKEN_PREFIX}..."
        )
    };
    let (scheme, secret) = value.split_once(' ').ok_or_else(malformed)?;
    let secret = secret.trim();
    let valid = scheme.eq_ignore_ascii_case("bearer")
        && !secret.is_empty()
        && secret.len() <= MAX_SECRET_BYTES
        && secret.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(secret) } else { Err(malformed()) }
}

/// Looks the token up and notes its use (at most about once a minute).
fn resolve(store: &Store, hash: &SecretHash) -> Result<Option<Token>, AppError> {
    let Some(token) = store.token_by_secret(hash)? else {
        return Ok(None);
    };
    let now = Utc::now();
    let stale = token
        .last_used_on
        .is_none_or(|at| at < now - LAST_USED_WINDOW);
    if token.is_valid_at(now) && stale {
        store.touch_token(token.id, now, now - LAST_USED_WINDOW)?;
    }
    Ok(Some(token))
}

/// A new token secret: `knt_` and 256 random bits in hex.
pub(crate) fn generate_secret() -> Result<String, AppError> {
    random_secret(TOKEN_PREFIX)
}

/// `prefix` and 256 random bits in hex.
pub(crate) fn random_secret(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness for a secret: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some("Bearer knt_abc")), Ok("knt_abc"));
        assert_eq!(bearer(Some("bearer knt_abc")), Ok("knt_abc"));
        for bad in [
            "",
            "Bearer",
            "Bearer ",
            "Basic a2V5OnNlY3JldA==",
            "knt_abc",
            "Bearer knt_\u{e9}",
            "Bearer knt_a b",
        ] {
            let message = bearer(Some(bad)).unwrap_err();
            assert!(!message.contains("knt_a"), "{message}");
        }
        assert!(bearer(None).unwrap_err().contains("Authorization: Bearer"));
        assert!(bearer(Some(&format!("Bearer {}", "x".repeat(513)))).is_err());
    }

    #[test]
    fn retry_after_is_rounded_up() {
        assert_eq!(whole_seconds(Duration::from_millis(11_990)), 12);
        assert_eq!(whole_seconds(Duration::from_secs(11)), 11);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn secrets_carry_256_random_bits() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert!(a.starts_with("knt_"));
        assert_eq!(a.len(), 4 + 64);
        assert_ne!(a, b);
    }
}
