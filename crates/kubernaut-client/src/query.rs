//! Paging and filters of the list endpoints (exact matches, and the audit log's time range),
//! as query parameters.

use serde::Serialize;

/// Which page of a list: `limit` 1..=1000 (server default 50), `offset` >= 0 (default 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Paging {
    /// The page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// How many items to skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// Filters of `GET /api/releases`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseFilter {
    /// The service's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Filters of `GET /api/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceFilter {
    /// The service's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The service's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Filters of `GET /api/deployments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentFilter {
    /// The service's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The status: `pending`, `applying`, `rolling_out`, `succeeded` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The release's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// Filters of `GET /api/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenFilter {
    /// The token's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only revoked tokens (`true`) or only those not revoked (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
}

/// Filters of `GET /api/audit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    /// The token name that made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The action: `release.create`, `token.revoke`, `access.denied`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The kind of record: `release`, `deployment`, `token`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The record's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The namespace concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The context concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Events from this instant on (RFC 3339, e.g. `2025-01-31T00:00:00Z`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Events up to this instant (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}
