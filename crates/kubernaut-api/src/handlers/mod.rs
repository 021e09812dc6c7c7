//! Thin actix-web handlers: parse, call the store on the blocking pool, shape the response.

pub(crate) mod contexts;
pub(crate) mod deployments;
pub(crate) mod health;
pub(crate) mod releases;
pub(crate) mod services;

use uuid::Uuid;

use crate::error::ApiError;

/// Parses an id from a path; a malformed id is as unknown as a missing one.
pub(crate) fn parse_id(what: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found(what, raw))
}

pub(crate) fn not_found(what: &str, raw: &str) -> ApiError {
    ApiError::NotFound(format!("{what} {raw} does not exist"))
}
