use std::collections::BTreeSet;
use std::fmt;

use kubernaut_domain::{GroupKind, Rollout};

use crate::diff::DryRun;
use crate::error::ClusterError;
use crate::object::{LiveObject, Object, ObjectRef, Workload};

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

fn unsupported(operation: &str) -> ClusterError {
    ClusterError::Unsupported {
        operation: operation.to_owned(),
    }
}

/// A cluster kubernaut deploys to: a real one through kube-rs ([`KubeCluster`](crate::KubeCluster))
/// or the in-memory [`Sandbox`](crate::Sandbox).
///
/// Both implement every method. [`get`](Self::get), [`dry_run`](Self::dry_run),
/// [`members`](Self::members) and [`delete`](Self::delete) have default implementations that
/// fail with [`ClusterError::Unsupported`], so that test doubles that only apply and report
/// rollouts need not implement them.
#[async_trait::async_trait]
pub trait Cluster: Send + Sync + fmt::Debug {
    /// Server-side applies one object into `namespace` (field manager `kubernaut`, force).
    /// The object's `metadata.namespace` is set to `namespace` (namespaced kinds).
    async fn apply(&self, namespace: &str, object: &Object) -> Result<Applied, ClusterError>;

    /// The rollout status of an applied workload. Also reports `Failed` as soon as a pod of the
    /// workload's current revision has a container stuck in `ImagePullBackOff`, `ErrImagePull`
    /// or `CrashLoopBackOff`.
    async fn rollout(&self, namespace: &str, workload: &Workload) -> Result<Rollout, ClusterError>;

    /// The rollouts of several applied workloads of `namespace`, in their order, as
    /// [`rollout`](Self::rollout) reports each. Reads them one by one unless a cluster can read
    /// them together for less: [`KubeCluster`](crate::KubeCluster) lists each workload kind
    /// once, so that watching many rollouts costs requests per namespace, not per workload.
    async fn rollouts(
        &self,
        namespace: &str,
        workloads: &[Workload],
    ) -> Vec<Result<Rollout, ClusterError>> {
        let mut rollouts = Vec::with_capacity(workloads.len());
        for workload in workloads {
            rollouts.push(self.rollout(namespace, workload).await);
        }
        rollouts
    }

    /// The object as the cluster has it now, `None` when it does not exist. `namespace` is
    /// ignored for cluster-scoped kinds.
    async fn get(
        &self,
        namespace: &str,
        object: &ObjectRef,
    ) -> Result<Option<LiveObject>, ClusterError> {
        let _ = (namespace, object);
        Err(unsupported("get"))
    }

    /// What [`apply`](Self::apply) would do to `object` in `namespace`, changing nothing: a
    /// server-side apply with `dryRun=All` (field manager `kubernaut`, force) compared with the
    /// live object. See [`DryRun`] for the action and the diff.
    async fn dry_run(&self, namespace: &str, object: &Object) -> Result<DryRun, ClusterError> {
        let _ = (namespace, object);
        Err(unsupported("dry run"))
    }

    /// The objects labelled `applyset.kubernetes.io/part-of=<applyset_id>`, listed kind by
    /// kind for each of `group_kinds`: in `namespace` for namespaced kinds, in the whole
    /// cluster for cluster-scoped ones. A group-kind the cluster does not serve (a deleted CRD)
    /// has no members. Objects are returned with their status, by group-kind (in the order of
    /// `group_kinds`), then by namespace and name.
    async fn members(
        &self,
        namespace: &str,
        applyset_id: &str,
        group_kinds: &BTreeSet<GroupKind>,
    ) -> Result<Vec<LiveObject>, ClusterError> {
        let _ = (namespace, applyset_id, group_kinds);
        Err(unsupported("listing ApplySet members"))
    }

    /// Deletes the object (in the background: its dependents, such as a Deployment's
    /// ReplicaSets and pods, are deleted after it by the garbage collector). An object that
    /// does not exist is fine: it is already gone. `namespace` is ignored for cluster-scoped
    /// kinds.
    async fn delete(&self, namespace: &str, object: &ObjectRef) -> Result<(), ClusterError> {
        let _ = (namespace, object);
        Err(unsupported("delete"))
    }
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

    /// A cluster that only applies and reports rollouts, as the test doubles of other crates.
    #[derive(Debug)]
    struct Minimal;

    #[async_trait::async_trait]
    impl Cluster for Minimal {
        async fn apply(&self, _: &str, _: &Object) -> Result<Applied, ClusterError> {
            Ok(Applied::Created)
        }

        async fn rollout(&self, _: &str, _: &Workload) -> Result<Rollout, ClusterError> {
            Ok(Rollout::Done)
        }
    }

    #[tokio::test]
    async fn the_newer_operations_are_unsupported_unless_implemented() {
        let reference = ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "cfg".into(),
        };
        let object = Object {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "cfg".into(),
            body: serde_json::json!({}),
        };
        let cluster: &dyn Cluster = &Minimal;
        assert_eq!(
            cluster
                .get("team", &reference)
                .await
                .unwrap_err()
                .to_string(),
            "get is not supported by this cluster"
        );
        assert_eq!(
            cluster
                .dry_run("team", &object)
                .await
                .unwrap_err()
                .to_string(),
            "dry run is not supported by this cluster"
        );
        assert_eq!(
            cluster
                .members("team", "applyset-x-v1", &BTreeSet::new())
                .await
                .unwrap_err()
                .to_string(),
            "listing ApplySet members is not supported by this cluster"
        );
        assert_eq!(
            cluster
                .delete("team", &reference)
                .await
                .unwrap_err()
                .to_string(),
            "delete is not supported by this cluster"
        );
    }
}
