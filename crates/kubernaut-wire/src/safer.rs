use serde::{Deserialize, Serialize};

/// `POST /api/deployments?dryRun=true`: what deploying would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DryRunBody {
    /// The rendered manifest.
    pub manifest: String,
    /// Per object, in apply order, then the objects a prune would delete.
    pub objects: Vec<DryRunObjectBody>,
}

/// One object of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DryRunObjectBody {
    /// `apps/v1`, `v1`, ...
    pub api_version: String,
    /// `Deployment`, `ConfigMap`, ...
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The namespace; `null` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// `create`, `configure`, `unchanged` or `prune`.
    pub action: String,
    /// Unified diff of the live object and the result, without managed fields and status.
    pub diff: String,
}

/// `GET /api/services/{id}/live`: the service's objects in a context as the cluster has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveBody {
    /// The context read.
    pub context: String,
    /// The members of the service's ApplySet.
    pub objects: Vec<LiveObjectBody>,
}

/// One live object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveObjectBody {
    /// `apps/v1`, `v1`, ...
    pub api_version: String,
    /// `Deployment`, `ConfigMap`, ...
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The namespace; `null` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// `healthy`, `progressing`, `degraded` or `unknown`.
    pub health: String,
    /// Why, in a sentence.
    pub message: String,
}
