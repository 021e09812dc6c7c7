//! Browser sessions: a token logs in once and the browser then holds a session secret (in a
//! cookie) instead of the token. A session ends when the caller logs out, after
//! [`SESSION_TTL`], when its token expires, or when its token is revoked.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kubernaut_domain::{SecretHash, TOKEN_PREFIX};

use crate::auth::random_secret;
use crate::caller::Principal;
use crate::{App, AppError, Caller, blocking};

/// The longest a browser session lasts; it ends sooner when its token expires.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);

/// The prefix of session secrets, which tells them from token secrets (`knt_`).
const SESSION_PREFIX: &str = "kns_";

/// A session just opened: its secret, shown to the browser once, and when it ends.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret the browser presents; only its SHA-256 is stored.
    pub secret: String,
    /// When the session ends.
    pub expires_on: DateTime<Utc>,
    /// Who logged in.
    pub caller: Caller,
}

impl App {
    /// Opens a session for the token whose secret is `token` (as typed into a login form):
    /// refused like a bad bearer token, and counted against the address's failures.
    pub async fn log_in(
        &self,
        token: &str,
        remote_addr: Option<String>,
        request_id: Option<String>,
    ) -> Result<NewSession, AppError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AppError::Unauthenticated(format!(
                "enter a token: the secret that starts with {TOKEN_PREFIX}"
            )));
        }
        let caller = self
            .authenticate(Some(&format!("Bearer {token}")), remote_addr, request_id)
            .await
            .map_err(|error| match error {
                AppError::Unauthenticated(_) if token.chars().any(char::is_whitespace) => {
                    AppError::Unauthenticated(format!(
                        "a token is one word without spaces, such as {TOKEN_PREFIX}..."
                    ))
                }
                other => other,
            })?;
        let secret = random_secret(SESSION_PREFIX)?;
        let ttl_end = Utc::now() + SESSION_TTL;
        let expires_on = caller
            .principal
            .expires_on
            .map_or(ttl_end, |token_end| token_end.min(ttl_end));
        let (store, hash, token_id) = (
            self.store.clone(),
            SecretHash::of(&secret),
            caller.principal.token_id,
        );
        blocking(move || {
            Ok(store.transaction(|tx| tx.create_session(&hash, token_id, expires_on))?)
        })
        .await?;
        Ok(NewSession {
            secret,
            expires_on,
            caller,
        })
    }

    /// The caller of the session whose secret is `secret`: [`AppError::Unauthenticated`] when
    /// there is no such session, or it ended.
    pub async fn session(
        &self,
        secret: &str,
        remote_addr: Option<String>,
        request_id: Option<String>,
    ) -> Result<Caller, AppError> {
        let (store, hash) = (self.store.clone(), SecretHash::of(secret));
        let found = blocking(move || Ok(store.token_by_session(&hash)?)).await?;
        let Some((token, expires_on)) = found else {
            return Err(AppError::Unauthenticated(
                "you are not logged in, or your session ended: log in with a token".to_owned(),
            ));
        };
        let now = Utc::now();
        if let Some(revoked) = token.revoked_on {
            return Err(AppError::Unauthenticated(format!(
                "the token {} was revoked on {revoked}, which ended this session",
                token.name
            )));
        }
        if expires_on <= now || token.expires_on.is_some_and(|end| end <= now) {
            return Err(AppError::Unauthenticated(format!(
                "your session ended on {expires_on}: log in again"
            )));
        }
        Ok(Caller {
            principal: Arc::new(Principal::from(&token)),
            remote_addr,
            request_id,
        })
    }

    /// Ends the session whose secret is `secret`, if there is one.
    pub async fn log_out(&self, secret: &str) -> Result<(), AppError> {
        let (store, hash) = (self.store.clone(), SecretHash::of(secret));
        blocking(move || Ok(store.end_session(&hash)?))
            .await
            .map(drop)
    }

    /// Refuses a request a front end will not carry out (a form without a valid CSRF token):
    /// appends `access.denied` with `message`, like every 403, and returns it.
    pub async fn refuse(&self, caller: &Caller, message: String) -> AppError {
        self.deny(caller, message, "request", None, None, None)
            .await
    }
}
