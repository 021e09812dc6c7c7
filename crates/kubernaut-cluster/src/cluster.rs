use std::fmt;

use kubernaut_domain::Rollout;

use crate::error::ClusterError;
use crate::object::{Object, Workload};

/// The field manager of kubernaut's server-side applies.
pub const FIELD_MANAGER: &str = "kubernaut";

/// What an apply did to an object. Displays as kubectl prints it: `created`, `configured`,
/// `unchanged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// The object did not exist.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the apply left it as it was.
    Unchanged,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
        })
    }
}

/// A cluster kubernaut deploys to: a real one through kube-rs ([`KubeCluster`](crate::KubeCluster))
/// or the in-memory [`Sandbox`](crate::Sandbox).
#[async_trait::async_trait]
pub trait Cluster: Send + Sync + fmt::Debug {
    /// Server-side applies one object into `namespace` (field manager `kubernaut`, force).
    /// The object's `metadata.namespace` is set to `namespace` (namespaced kinds).
    async fn apply(&self, namespace: &str, object: &Object) -> Result<Applied, ClusterError>;

    /// The rollout status of an applied workload. Also reports `Failed` as soon as a pod of the
    /// workload's current revision has a container stuck in `ImagePullBackOff`, `ErrImagePull`
    /// or `CrashLoopBackOff`.
    async fn rollout(&self, namespace: &str, workload: &Workload) -> Result<Rollout, ClusterError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_displays_like_kubectl() {
        assert_eq!(Applied::Created.to_string(), "created");
        assert_eq!(Applied::Configured.to_string(), "configured");
        assert_eq!(Applied::Unchanged.to_string(), "unchanged");
    }
}
