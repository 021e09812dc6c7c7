//! What an operation can fail with, in terms every front end maps to its own answer (the JSON
//! API to a status, the web UI to a page).

use kubernaut_domain::ValidationError;
use kubernaut_store::StoreError;
use kubernaut_template::TemplateError;
use thiserror::Error;

use crate::deploy::DeployError;

/// Why an operation did not happen. Each message is one sentence for the caller.
#[derive(Debug, Error)]
pub enum AppError {
    /// The input is invalid (a field, a template, an unknown context).
    #[error("{0}")]
    Invalid(String),
    /// No valid token: missing, malformed, unknown, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token is valid, but no grant allows the action; the message names what is missing.
    #[error("{0}")]
    Forbidden(String),
    /// The record does not exist, is deleted, or the token may not see it.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with existing state.
    #[error("{0}")]
    Conflict(String),
    /// Too many failed authentications from one address; try again after this many seconds.
    #[error("too many failed authentications from this address; try again in {0} s")]
    Throttled(u64),
    /// The database is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of the server; the detail is for the log, not the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ValidationError> for AppError {
    fn from(error: ValidationError) -> Self {
        AppError::Invalid(error.to_string())
    }
}

impl From<TemplateError> for AppError {
    fn from(error: TemplateError) -> Self {
        AppError::Invalid(error.to_string())
    }
}

impl From<DeployError> for AppError {
    fn from(error: DeployError) -> Self {
        AppError::Invalid(error.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::NotFound(message) => AppError::NotFound(message),
            StoreError::Unavailable(_) | StoreError::Connect { .. } => {
                AppError::Unavailable(error.to_string())
            }
            StoreError::InvalidUrl { .. }
            | StoreError::Migration { .. }
            | StoreError::Corrupt(_)
            | StoreError::Database(_) => AppError::Internal(error.to_string()),
        }
    }
}

/// `what id does not exist`: the answer for unknown, deleted and invisible records alike.
pub(crate) fn not_found(what: &str, id: impl std::fmt::Display) -> AppError {
    AppError::NotFound(format!("{what} {id} does not exist"))
}
