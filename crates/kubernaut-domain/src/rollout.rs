//! When a rollout is done, still progressing or failed: the rules of `kubectl rollout status`,
//! as pure functions over the few status fields they read.

/// The state of a workload's rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Still going; the reason says what it waits for, as `kubectl rollout status` words it.
    Progressing(String),
    /// Every replica runs the new spec and is available.
    Done,
    /// The rollout cannot finish by itself; the reason says why.
    Failed(String),
}

/// What the Deployment rule reads. Absent fields are 0 (or `None`), as the API omits zeroes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentState {
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
    /// `spec.replicas`; when absent the updated-replicas check is skipped, as kubectl does.
    pub replicas: Option<i32>,
    /// `status.replicas`: pods of every revision.
    pub status_replicas: i32,
    /// `status.updatedReplicas`: pods of the new revision.
    pub updated_replicas: i32,
    /// `status.availableReplicas`.
    pub available_replicas: i32,
    /// `reason` of the status condition of type `Progressing`.
    pub progressing_reason: Option<String>,
    /// `message` of the status condition of type `Progressing`.
    pub progressing_message: Option<String>,
}

/// What the StatefulSet rule reads. Absent fields are 0, empty (or `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSetState {
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
    /// `spec.replicas`; when absent the replica checks are skipped, as kubectl does.
    pub replicas: Option<i32>,
    /// `status.readyReplicas`.
    pub ready_replicas: i32,
    /// `status.updatedReplicas`.
    pub updated_replicas: i32,
    /// `spec.updateStrategy.rollingUpdate.partition`.
    pub partition: Option<i32>,
    /// `status.updateRevision`.
    pub update_revision: String,
    /// `status.currentRevision`.
    pub current_revision: String,
}

/// What the DaemonSet rule reads. Absent fields are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSetState {
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
    /// `status.desiredNumberScheduled`.
    pub desired_number_scheduled: i32,
    /// `status.updatedNumberScheduled`.
    pub updated_number_scheduled: i32,
    /// `status.numberAvailable`.
    pub number_available: i32,
}

/// The `Progressing` condition reason with which the deployment controller gives up.
const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

/// The rollout of the Deployment `name`, by the rules of `kubectl rollout status`.
///
/// It fails only when the controller reports `ProgressDeadlineExceeded`.
pub fn deployment_rollout(name: &str, s: &DeploymentState) -> Rollout {
    if s.generation > s.observed_generation {
        return Rollout::Progressing(format!(
            "Waiting for deployment {name:?} spec update to be observed..."
        ));
    }
    if s.progressing_reason.as_deref() == Some(PROGRESS_DEADLINE_EXCEEDED) {
        let message = s.progressing_message.as_deref().unwrap_or_default();
        return Rollout::Failed(format!(
            "deployment {name:?} exceeded its progress deadline: {message}"
        ));
    }
    if let Some(replicas) = s.replicas
        && s.updated_replicas < replicas
    {
        return Rollout::Progressing(format!(
            "Waiting for deployment {name:?} rollout to finish: {} out of {replicas} new replicas \
             have been updated...",
            s.updated_replicas
        ));
    }
    if s.status_replicas > s.updated_replicas {
        return Rollout::Progressing(format!(
            "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending \
             termination...",
            s.status_replicas - s.updated_replicas
        ));
    }
    if s.available_replicas < s.updated_replicas {
        return Rollout::Progressing(format!(
            "Waiting for deployment {name:?} rollout to finish: {} of {} updated replicas are \
             available...",
            s.available_replicas, s.updated_replicas
        ));
    }
    Rollout::Done
}

/// The rollout of the StatefulSet `name`, by the rules of `kubectl rollout status`. Never fails.
///
/// As in kubectl, a StatefulSet with a partition (the API server gives every `RollingUpdate`
/// one, 0 by default) is done once the pods from the partition up are updated; revisions are
/// compared only when there is no partition (`OnDelete`).
pub fn stateful_set_rollout(name: &str, s: &StatefulSetState) -> Rollout {
    if s.observed_generation == 0 || s.generation > s.observed_generation {
        return Rollout::Progressing(format!(
            "Waiting for statefulset {name:?} spec update to be observed..."
        ));
    }
    if let Some(replicas) = s.replicas
        && s.ready_replicas < replicas
    {
        return Rollout::Progressing(format!(
            "Waiting for statefulset {name:?}: {} pods to be ready...",
            replicas - s.ready_replicas
        ));
    }
    if let Some(partition) = s.partition {
        let expected = s.replicas.map_or(0, |replicas| replicas - partition);
        if s.updated_replicas < expected {
            return Rollout::Progressing(format!(
                "Waiting for statefulset {name:?} partitioned roll out to finish: {} out of \
                 {expected} new pods have been updated...",
                s.updated_replicas
            ));
        }
        return Rollout::Done;
    }
    if s.update_revision != s.current_revision {
        return Rollout::Progressing(format!(
            "Waiting for statefulset {name:?} rolling update to complete {} pods at revision {}...",
            s.updated_replicas, s.update_revision
        ));
    }
    Rollout::Done
}

/// The rollout of the DaemonSet `name`, by the rules of `kubectl rollout status`. Never fails.
pub fn daemon_set_rollout(name: &str, s: &DaemonSetState) -> Rollout {
    if s.generation > s.observed_generation {
        return Rollout::Progressing(format!(
            "Waiting for daemon set {name:?} spec update to be observed..."
        ));
    }
    if s.updated_number_scheduled < s.desired_number_scheduled {
        return Rollout::Progressing(format!(
            "Waiting for daemon set {name:?} rollout to finish: {} out of {} new pods have been \
             updated...",
            s.updated_number_scheduled, s.desired_number_scheduled
        ));
    }
    if s.number_available < s.desired_number_scheduled {
        return Rollout::Progressing(format!(
            "Waiting for daemon set {name:?} rollout to finish: {} of {} updated pods are \
             available...",
            s.number_available, s.desired_number_scheduled
        ));
    }
    Rollout::Done
}

/// A container of a pod that waits to start (`status.containerStatuses[].state.waiting`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerWaiting {
    /// The pod's name.
    pub pod: String,
    /// The container's name.
    pub container: String,
    /// Why it waits, e.g. `ContainerCreating` or `ImagePullBackOff`.
    pub reason: String,
    /// The kubelet's explanation, if any.
    pub message: Option<String>,
}

/// Waiting reasons from which a container does not recover without a new spec.
const STUCK_REASONS: [&str; 3] = ["ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff"];

/// Why a rollout cannot finish, from the first container stuck in `ImagePullBackOff`,
/// `ErrImagePull` or `CrashLoopBackOff`: `pod hello-7d9 container app: ImagePullBackOff: Back-off
/// pulling image "nginx:nope"`. `None` when no container is stuck.
pub fn stuck_container(waiting: &[ContainerWaiting]) -> Option<String> {
    let stuck = waiting
        .iter()
        .find(|w| STUCK_REASONS.contains(&w.reason.as_str()))?;
    let mut reason = format!(
        "pod {} container {}: {}",
        stuck.pod, stuck.container, stuck.reason
    );
    if let Some(message) = stuck.message.as_deref().filter(|m| !m.is_empty()) {
        reason.push_str(": ");
        reason.push_str(message);
    }
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolled_out_deployment() -> DeploymentState {
        DeploymentState {
            generation: 2,
            observed_generation: 2,
            replicas: Some(3),
            status_replicas: 3,
            updated_replicas: 3,
            available_replicas: 3,
            progressing_reason: Some("NewReplicaSetAvailable".into()),
            progressing_message: Some(
                "ReplicaSet \"hello-7d9\" has successfully progressed.".into(),
            ),
        }
    }

    fn progressing(rollout: Rollout) -> String {
        match rollout {
            Rollout::Progressing(reason) => reason,
            other => panic!("expected progressing, got {other:?}"),
        }
    }

    #[test]
    fn deployment_with_every_replica_updated_and_available_is_done() {
        assert_eq!(
            deployment_rollout("hello", &rolled_out_deployment()),
            Rollout::Done
        );
        assert_eq!(
            deployment_rollout("hello", &DeploymentState::default()),
            Rollout::Done
        );
    }

    #[test]
    fn deployment_waits_until_the_controller_observed_the_new_generation() {
        let s = DeploymentState {
            generation: 3,
            ..rolled_out_deployment()
        };
        assert_eq!(
            progressing(deployment_rollout("hello", &s)),
            "Waiting for deployment \"hello\" spec update to be observed..."
        );
        let observed_ahead = DeploymentState {
            observed_generation: 3,
            ..rolled_out_deployment()
        };
        assert_eq!(deployment_rollout("hello", &observed_ahead), Rollout::Done);
    }

    #[test]
    fn deployment_past_its_progress_deadline_fails_with_the_condition_message() {
        let s = DeploymentState {
            updated_replicas: 1,
            progressing_reason: Some("ProgressDeadlineExceeded".into()),
            progressing_message: Some("ReplicaSet \"hello-7d9\" has timed out progressing.".into()),
            ..rolled_out_deployment()
        };
        assert_eq!(
            deployment_rollout("hello", &s),
            Rollout::Failed(
                "deployment \"hello\" exceeded its progress deadline: ReplicaSet \"hello-7d9\" \
                 has timed out progressing."
                    .into()
            )
        );
    }

    #[test]
    fn an_unobserved_generation_wins_over_an_old_progress_deadline() {
        let s = DeploymentState {
            generation: 3,
            progressing_reason: Some("ProgressDeadlineExceeded".into()),
            ..rolled_out_deployment()
        };
        assert!(matches!(
            deployment_rollout("hello", &s),
            Rollout::Progressing(_)
        ));
    }

    #[test]
    fn deployment_waits_for_new_replicas() {
        let s = DeploymentState {
            updated_replicas: 1,
            ..rolled_out_deployment()
        };
        assert_eq!(
            progressing(deployment_rollout("hello", &s)),
            "Waiting for deployment \"hello\" rollout to finish: 1 out of 3 new replicas have \
             been updated..."
        );
    }

    #[test]
    fn deployment_without_spec_replicas_skips_the_updated_replicas_check() {
        let s = DeploymentState {
            replicas: None,
            status_replicas: 1,
            updated_replicas: 1,
            available_replicas: 1,
            ..rolled_out_deployment()
        };
        assert_eq!(deployment_rollout("hello", &s), Rollout::Done);
    }

    #[test]
    fn deployment_waits_for_old_replicas_to_terminate() {
        let s = DeploymentState {
            status_replicas: 5,
            ..rolled_out_deployment()
        };
        assert_eq!(
            progressing(deployment_rollout("hello", &s)),
            "Waiting for deployment \"hello\" rollout to finish: 2 old replicas are pending \
             termination..."
        );
    }

    #[test]
    fn deployment_waits_for_updated_replicas_to_be_available() {
        let s = DeploymentState {
            available_replicas: 2,
            ..rolled_out_deployment()
        };
        assert_eq!(
            progressing(deployment_rollout("hello", &s)),
            "Waiting for deployment \"hello\" rollout to finish: 2 of 3 updated replicas are \
             available..."
        );
        let more_available = DeploymentState {
            available_replicas: 4,
            ..rolled_out_deployment()
        };
        assert_eq!(deployment_rollout("hello", &more_available), Rollout::Done);
    }

    fn rolled_out_stateful_set() -> StatefulSetState {
        StatefulSetState {
            generation: 4,
            observed_generation: 4,
            replicas: Some(3),
            ready_replicas: 3,
            updated_replicas: 3,
            partition: None,
            update_revision: "db-5c8f".into(),
            current_revision: "db-5c8f".into(),
        }
    }

    #[test]
    fn stateful_set_with_ready_pods_at_the_current_revision_is_done() {
        assert_eq!(
            stateful_set_rollout("db", &rolled_out_stateful_set()),
            Rollout::Done
        );
    }

    #[test]
    fn stateful_set_never_observed_or_behind_is_progressing() {
        for (generation, observed) in [(0, 0), (5, 4)] {
            let s = StatefulSetState {
                generation,
                observed_generation: observed,
                ..rolled_out_stateful_set()
            };
            assert_eq!(
                progressing(stateful_set_rollout("db", &s)),
                "Waiting for statefulset \"db\" spec update to be observed..."
            );
        }
    }

    #[test]
    fn stateful_set_waits_for_ready_pods() {
        let s = StatefulSetState {
            ready_replicas: 1,
            ..rolled_out_stateful_set()
        };
        assert_eq!(
            progressing(stateful_set_rollout("db", &s)),
            "Waiting for statefulset \"db\": 2 pods to be ready..."
        );
    }

    #[test]
    fn partitioned_stateful_set_is_done_when_the_pods_above_the_partition_are_updated() {
        let waiting = StatefulSetState {
            partition: Some(1),
            updated_replicas: 1,
            update_revision: "db-6d9a".into(),
            ..rolled_out_stateful_set()
        };
        assert_eq!(
            progressing(stateful_set_rollout("db", &waiting)),
            "Waiting for statefulset \"db\" partitioned roll out to finish: 1 out of 2 new pods \
             have been updated..."
        );
        let done = StatefulSetState {
            updated_replicas: 2,
            ..waiting
        };
        assert_eq!(stateful_set_rollout("db", &done), Rollout::Done);
    }

    #[test]
    fn stateful_set_without_partition_waits_for_the_update_revision() {
        let s = StatefulSetState {
            updated_replicas: 2,
            update_revision: "db-6d9a".into(),
            ..rolled_out_stateful_set()
        };
        assert_eq!(
            progressing(stateful_set_rollout("db", &s)),
            "Waiting for statefulset \"db\" rolling update to complete 2 pods at revision \
             db-6d9a..."
        );
    }

    fn rolled_out_daemon_set() -> DaemonSetState {
        DaemonSetState {
            generation: 2,
            observed_generation: 2,
            desired_number_scheduled: 4,
            updated_number_scheduled: 4,
            number_available: 4,
        }
    }

    #[test]
    fn daemon_set_rules() {
        assert_eq!(
            daemon_set_rollout("agent", &rolled_out_daemon_set()),
            Rollout::Done
        );
        let behind = DaemonSetState {
            generation: 3,
            ..rolled_out_daemon_set()
        };
        assert_eq!(
            progressing(daemon_set_rollout("agent", &behind)),
            "Waiting for daemon set \"agent\" spec update to be observed..."
        );
        let updating = DaemonSetState {
            updated_number_scheduled: 3,
            ..rolled_out_daemon_set()
        };
        assert_eq!(
            progressing(daemon_set_rollout("agent", &updating)),
            "Waiting for daemon set \"agent\" rollout to finish: 3 out of 4 new pods have been \
             updated..."
        );
        let unavailable = DaemonSetState {
            number_available: 2,
            ..rolled_out_daemon_set()
        };
        assert_eq!(
            progressing(daemon_set_rollout("agent", &unavailable)),
            "Waiting for daemon set \"agent\" rollout to finish: 2 of 4 updated pods are \
             available..."
        );
    }

    fn waiting(
        pod: &str,
        container: &str,
        reason: &str,
        message: Option<&str>,
    ) -> ContainerWaiting {
        ContainerWaiting {
            pod: pod.into(),
            container: container.into(),
            reason: reason.into(),
            message: message.map(Into::into),
        }
    }

    #[test]
    fn the_first_stuck_container_names_pod_container_reason_and_message() {
        let containers = [
            waiting("hello-7d9", "sidecar", "ContainerCreating", None),
            waiting(
                "hello-7d9",
                "app",
                "ImagePullBackOff",
                Some("Back-off pulling image \"nginx:nope\""),
            ),
            waiting("hello-8e1", "app", "CrashLoopBackOff", None),
        ];
        assert_eq!(
            stuck_container(&containers).as_deref(),
            Some(
                "pod hello-7d9 container app: ImagePullBackOff: Back-off pulling image \"nginx:nope\""
            )
        );
    }

    #[test]
    fn each_stuck_reason_counts_and_an_absent_message_is_left_out() {
        for reason in ["ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff"] {
            assert_eq!(
                stuck_container(&[waiting("p", "c", reason, Some(""))]),
                Some(format!("pod p container c: {reason}"))
            );
        }
    }

    #[test]
    fn containers_that_will_start_by_themselves_are_not_stuck() {
        assert_eq!(stuck_container(&[]), None);
        assert_eq!(
            stuck_container(&[
                waiting("p", "c", "ContainerCreating", None),
                waiting("p", "d", "PodInitializing", None),
            ]),
            None
        );
    }
}
