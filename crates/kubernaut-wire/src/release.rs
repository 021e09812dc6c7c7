use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ServiceRef;

/// `POST /api/releases` as JSON. Unknown fields are refused, so that a typo is not ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// The service's name.
    pub service: Option<String>,
    /// The namespace (default `default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The mustache manifest template.
    pub template: Option<String>,
    /// String attributes rendered into the template.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A release's template; `source` only when one release is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateBody {
    /// Its id.
    pub id: Uuid,
    /// The sha256 of its source.
    pub checksum: String,
    /// The mustache source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReleaseBody {
    /// Its id.
    pub id: Uuid,
    /// The service released.
    pub service: ServiceRef,
    /// The version.
    pub version: String,
    /// The template.
    pub template: TemplateBody,
    /// The attributes, by name.
    pub attributes: BTreeMap<String, String>,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
    /// Only in the answer to `POST /api/releases`, when there are any: what the caller should
    /// check, such as attributes the template does not use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
