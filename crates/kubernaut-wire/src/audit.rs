use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// An audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEventBody {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub at: String,
    /// The token name that made the change.
    pub actor: String,
    /// `release.create`, `deployment.cancel`, `access.denied`, ...
    pub action: String,
    /// `release`, `deployment`, `token`, ...
    pub resource_type: String,
    /// The record's id.
    pub resource_id: Option<String>,
    /// The namespace concerned.
    pub namespace: Option<String>,
    /// The context concerned.
    pub context: Option<String>,
    /// The caller's address.
    pub remote_addr: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    /// More about the event.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Map<String, Value>,
    /// SHA-256 of the previous event's hash followed by this event's canonical JSON.
    pub hash: String,
}

/// `GET /api/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyBody {
    /// Whether every event's hash matches the chain.
    pub ok: bool,
    /// How many events were checked.
    pub events: u64,
    /// The first event whose hash does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_event: Option<Uuid>,
}
