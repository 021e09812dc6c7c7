//! Paging and exact-match filters of the list endpoints, as query parameters.

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
