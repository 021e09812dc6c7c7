//! Tokens: created and revoked by global admins, the first one at the first start, and a new
//! global admin by the server's `admin-token` command when every admin token is lost.

use chrono::Utc;
use kubernaut_domain::{
    AuditAction, BOOTSTRAP_TOKEN_NAME, ExpiresInDays, Grants, NewAuditEvent, NewToken, Page, Paged,
    SERVER_ACTOR, SecretHash, Token, TokenName, validate_bootstrap_secret,
};
use kubernaut_store::{Deletion, TokenFilter, Tx};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::generate_secret;
use crate::error::not_found;
use crate::{App, AppError, Caller, blocking};

/// A token just created, with its secret: shown this once, stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedToken {
    /// The stored token.
    pub token: Token,
    /// Its secret.
    pub secret: String,
}

/// The grants as audit details show them.
fn grants_detail(grants: &Grants) -> Value {
    serde_json::to_value(grants).unwrap_or(Value::Null)
}

/// Stores `new` under `secret` with its `token.create` event; the event's actor and origin
/// come from `event`.
fn store_token(
    tx: &mut Tx<'_>,
    new: &NewToken,
    secret: &str,
    event: &NewAuditEvent,
) -> Result<Token, kubernaut_store::StoreError> {
    let token = tx.create_token(new, &SecretHash::of(secret))?;
    let mut event = event.clone();
    event.resource_id = Some(token.id.to_string());
    event
        .details
        .insert("name".to_owned(), token.name.as_str().into());
    event
        .details
        .insert("grants".to_owned(), grants_detail(&token.grants));
    tx.append_audit(event)?;
    Ok(token)
}

fn server_event() -> NewAuditEvent {
    NewAuditEvent {
        actor: SERVER_ACTOR.to_owned(),
        action: AuditAction::TokenCreate,
        resource_type: "token",
        resource_id: None,
        namespace: None,
        context: None,
        remote_addr: None,
        request_id: None,
        details: serde_json::Map::new(),
    }
}

impl App {
    /// Creates a token (global admins only); its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: TokenName,
        grants: Grants,
        expires_in: ExpiresInDays,
    ) -> Result<CreatedToken, AppError> {
        self.require_global_admin(caller, "create tokens", "token")
            .await?;
        let new = NewToken {
            name,
            grants,
            expires_on: Some(expires_in.after(Utc::now())),
            created_by: caller.name().to_owned(),
        };
        let secret = generate_secret()?;
        let event = caller.event(AuditAction::TokenCreate, "token").build();
        let store = self.store.clone();
        blocking(move || {
            let token = store.transaction(|tx| store_token(tx, &new, &secret, &event))?;
            Ok(CreatedToken { token, secret })
        })
        .await
    }

    /// Tokens, newest first (global admins only).
    pub async fn tokens(
        &self,
        caller: &Caller,
        filter: TokenFilter,
        page: Page,
    ) -> Result<Paged<Token>, AppError> {
        self.require_global_admin(caller, "list tokens", "token")
            .await?;
        let store = self.store.clone();
        blocking(move || Ok(store.tokens(&filter, page)?)).await
    }

    /// One token, revoked or not (global admins only).
    pub async fn token(&self, caller: &Caller, id: Uuid) -> Result<Token, AppError> {
        self.require_global_admin(caller, "read tokens", "token")
            .await?;
        let store = self.store.clone();
        blocking(move || store.token(id)?.ok_or_else(|| not_found("token", id))).await
    }

    /// Revokes a token (global admins only): refused on this replica at once, on others within
    /// [`crate::TOKEN_CACHE_TTL`]. `Ok` also when it was revoked before.
    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        self.require_global_admin(caller, "revoke tokens", "token")
            .await?;
        let (store, caller2) = (self.store.clone(), caller.clone());
        let deletion = blocking(move || {
            Ok(store.transaction(|tx| {
                let deletion = tx.revoke_token(id, caller2.name())?;
                if deletion == Deletion::Done {
                    tx.append_audit(
                        caller2
                            .event(AuditAction::TokenRevoke, "token")
                            .resource(id)
                            .build(),
                    )?;
                }
                Ok(deletion)
            })?)
        })
        .await?;
        self.auth.forget(id);
        match deletion {
            Deletion::Unknown => Err(not_found("token", id)),
            Deletion::Done | Deletion::AlreadyDone => Ok(()),
        }
    }

    /// Creates the first global-admin token, named `admin` and never expiring, unless a
    /// global admin was ever created: with `configured` as its secret, or a generated one,
    /// which is returned so that the server can show it once.
    pub async fn bootstrap_admin(
        &self,
        configured: Option<String>,
    ) -> Result<Option<String>, AppError> {
        if let Some(secret) = &configured {
            validate_bootstrap_secret(secret)?;
        }
        let generated = configured.is_none();
        let secret = match configured {
            Some(secret) => secret,
            None => generate_secret()?,
        };
        let new = NewToken {
            name: TokenName::parse(BOOTSTRAP_TOKEN_NAME)?,
            grants: Grants::global_admin(),
            expires_on: None,
            created_by: SERVER_ACTOR.to_owned(),
        };
        let store = self.store.clone();
        let created = blocking(move || {
            Ok(store
                .transaction(|tx| {
                    if tx.global_admin_ever()? {
                        return Ok(false);
                    }
                    store_token(tx, &new, &secret, &server_event())?;
                    Ok(true)
                })?
                .then_some(secret))
        })
        .await?;
        Ok(created.filter(|_| generated))
    }

    /// Creates a global-admin token directly, as the server's `admin-token` command does:
    /// the way back in when every admin token is lost. Audited with actor `kubernaut-server`.
    pub async fn admin_token(
        &self,
        name: TokenName,
        expires_in: Option<ExpiresInDays>,
    ) -> Result<CreatedToken, AppError> {
        let new = NewToken {
            name,
            grants: Grants::global_admin(),
            expires_on: expires_in.map(|days| days.after(Utc::now())),
            created_by: SERVER_ACTOR.to_owned(),
        };
        let secret = generate_secret()?;
        let store = self.store.clone();
        blocking(move || {
            let token = store.transaction(|tx| store_token(tx, &new, &secret, &server_event()))?;
            Ok(CreatedToken { token, secret })
        })
        .await
    }
}
