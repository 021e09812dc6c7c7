use serde::{Deserialize, Serialize};

/// A context a deployment can target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextBody {
    /// Its name.
    pub name: String,
    /// `kubeconfig` or `sandbox`.
    pub kind: String,
}
