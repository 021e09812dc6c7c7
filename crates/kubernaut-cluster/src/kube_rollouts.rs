//! Reading the rollouts of many workloads of one namespace together, so that the requests grow
//! with the workload kinds being watched, not with the workloads.

use std::collections::HashMap;

use kube::api::{DynamicObject, ListParams};
use kube::core::Selector;
use kubernaut_domain::{
    APPLYSET_PART_OF_LABEL, Rollout, daemon_set_rollout, deployment_rollout, stateful_set_rollout,
    stuck_container,
};

use crate::error::ClusterError;
use crate::kube_cluster::KubeCluster;
use crate::object::{Workload, WorkloadKind};
use crate::pods::{
    CONTROLLER_REVISION_HASH, POD_TEMPLATE_HASH, newest_controller_revision_hash,
    newest_replica_set_hash, selector, waiting_containers, with_label,
};
use crate::states;

/// The rollout a workload's controller reports, before its pods are looked at.
pub(crate) fn reported(workload: &Workload, current: &DynamicObject) -> Rollout {
    match workload.kind {
        WorkloadKind::Deployment => {
            deployment_rollout(&workload.name, &states::deployment(current))
        }
        WorkloadKind::StatefulSet => {
            stateful_set_rollout(&workload.name, &states::stateful_set(current))
        }
        WorkloadKind::DaemonSet => daemon_set_rollout(&workload.name, &states::daemon_set(current)),
    }
}

/// Whether the pods of a workload whose controller reports `rollout` should be checked for
/// stuck containers: it progresses, and its controller has seen the latest spec.
pub(crate) fn pods_matter(rollout: &Rollout, current: &DynamicObject) -> bool {
    matches!(rollout, Rollout::Progressing(_)) && states::observed(current)
}

/// The label and value that tell the pods of the workload's newest revision, when they can be
/// told: from the `revisions` it owns (a Deployment's ReplicaSets, a DaemonSet's
/// ControllerRevisions; others of the namespace may be among them) or its status (a
/// StatefulSet).
pub(crate) fn revision_label(
    kind: WorkloadKind,
    current: &DynamicObject,
    revisions: &[DynamicObject],
) -> Option<(&'static str, String)> {
    let owner = current.metadata.uid.as_deref().unwrap_or_default();
    match kind {
        WorkloadKind::Deployment => {
            newest_replica_set_hash(revisions, owner).map(|hash| (POD_TEMPLATE_HASH, hash))
        }
        WorkloadKind::StatefulSet => {
            states::update_revision(current).map(|hash| (CONTROLLER_REVISION_HASH, hash))
        }
        WorkloadKind::DaemonSet => newest_controller_revision_hash(revisions, owner)
            .map(|hash| (CONTROLLER_REVISION_HASH, hash)),
    }
}

/// A workload read and judged, waiting for its pods to be checked.
struct Reading {
    current: DynamicObject,
    rollout: Rollout,
}

impl KubeCluster {
    /// Lists the ApplySet members of `kind` in the namespace (every workload kubernaut applied
    /// carries the label), by name.
    async fn list_members(
        &self,
        namespace: &str,
        kind: WorkloadKind,
    ) -> Result<HashMap<String, DynamicObject>, ClusterError> {
        let what = format!("{}s.apps", kind.as_str().to_ascii_lowercase());
        let listed = self
            .api(namespace, "apps", kind.as_str())
            .list(&ListParams::default().labels(APPLYSET_PART_OF_LABEL))
            .await
            .map_err(|e| self.error(&what, e))?;
        Ok(listed
            .items
            .into_iter()
            .filter_map(|item| Some((item.metadata.name.clone()?, item)))
            .collect())
    }

    /// Lists every object of a built-in kind in the namespace.
    async fn list_all(
        &self,
        namespace: &str,
        group: &str,
        kind: &str,
        what: &str,
    ) -> Result<Vec<DynamicObject>, ClusterError> {
        self.api(namespace, group, kind)
            .list(&ListParams::default())
            .await
            .map(|listed| listed.items)
            .map_err(|e| self.error(what, e))
    }

    /// The rollouts of `workloads`, in their order, read with one list per workload kind; a
    /// workload the list misses (one without the ApplySet label) is read on its own. When some
    /// progress, the namespace's pods are listed once, with its ReplicaSets (for Deployments)
    /// and ControllerRevisions (for DaemonSets), to find stuck containers of newest revisions.
    pub(crate) async fn read_rollouts(
        &self,
        namespace: &str,
        workloads: &[Workload],
    ) -> Vec<Result<Rollout, ClusterError>> {
        let mut kinds: Vec<WorkloadKind> = workloads.iter().map(|w| w.kind).collect();
        kinds.sort_by_key(|kind| kind.as_str());
        kinds.dedup();
        let mut lists = HashMap::new();
        for kind in kinds {
            lists.insert(kind, self.list_members(namespace, kind).await);
        }
        let mut readings = Vec::with_capacity(workloads.len());
        for workload in workloads {
            let current = match &lists[&workload.kind] {
                Ok(listed) => match listed.get(&workload.name) {
                    Some(current) => Ok(current.clone()),
                    None => self.current(namespace, workload).await,
                },
                Err(error) => Err(error.clone()),
            };
            readings.push(current.map(|current| Reading {
                rollout: reported(workload, &current),
                current,
            }));
        }
        let checks: Vec<(usize, Selector)> = readings
            .iter()
            .enumerate()
            .filter_map(|(index, reading)| {
                let reading = reading.as_ref().ok()?;
                pods_matter(&reading.rollout, &reading.current)
                    .then(|| Some((index, selector(&reading.current)?)))
                    .flatten()
            })
            .collect();
        if !checks.is_empty() {
            self.check_pods(namespace, workloads, &mut readings, checks)
                .await;
        }
        readings
            .into_iter()
            .map(|reading| reading.map(|reading| reading.rollout))
            .collect()
    }

    /// Fails each checked reading whose newest revision has a stuck container; a failed list
    /// is the error of every reading that needed it.
    async fn check_pods(
        &self,
        namespace: &str,
        workloads: &[Workload],
        readings: &mut [Result<Reading, ClusterError>],
        checks: Vec<(usize, Selector)>,
    ) {
        let needs = |kind| checks.iter().any(|(i, _)| workloads[*i].kind == kind);
        let mut replica_sets = Ok(Vec::new());
        if needs(WorkloadKind::Deployment) {
            replica_sets = self
                .list_all(namespace, "apps", "ReplicaSet", "replicasets.apps")
                .await;
        }
        let mut revisions = Ok(Vec::new());
        if needs(WorkloadKind::DaemonSet) {
            revisions = self
                .list_all(
                    namespace,
                    "apps",
                    "ControllerRevision",
                    "controllerrevisions.apps",
                )
                .await;
        }
        let pods = self.list_all(namespace, "", "Pod", "pods").await;
        for (index, selector) in checks {
            let Ok(reading) = &mut readings[index] else {
                continue;
            };
            let owned = match workloads[index].kind {
                WorkloadKind::Deployment => replica_sets.as_deref(),
                WorkloadKind::DaemonSet => revisions.as_deref(),
                WorkloadKind::StatefulSet => Ok(&[][..]),
            };
            let (pods, owned) = match (&pods, owned) {
                (Ok(pods), Ok(owned)) => (pods, owned),
                (Err(error), _) | (_, Err(error)) => {
                    readings[index] = Err(error.clone());
                    continue;
                }
            };
            let selector = match revision_label(workloads[index].kind, &reading.current, owned) {
                Some((label, hash)) => with_label(selector, label, hash),
                None => selector,
            };
            if let Some(stuck) = stuck_container(&waiting_containers(pods, &selector)) {
                reading.rollout = Rollout::Failed(stuck);
            }
        }
    }
}
