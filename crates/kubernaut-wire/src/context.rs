use serde::{Deserialize, Serialize};

/// A context a deployment can target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextBody {
    /// Its name.
    pub name: String,
    /// `kubeconfig`, `in-cluster` or `sandbox`.
    pub kind: String,
}
