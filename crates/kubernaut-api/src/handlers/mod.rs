//! Thin actix-web handlers: authenticate, parse, call the shared operations, shape the response.

pub(crate) mod audit;
pub(crate) mod contexts;
pub(crate) mod deployments;
pub(crate) mod health;
pub(crate) mod notifications;
pub(crate) mod releases;
pub(crate) mod services;
pub(crate) mod tokens;

use uuid::Uuid;

use crate::error::ApiError;

/// Parses an id from a path; a malformed id is as unknown as a missing one.
pub(crate) fn parse_id(what: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("{what} {raw} does not exist")))
}
