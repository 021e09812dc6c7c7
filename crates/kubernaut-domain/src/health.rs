//! The health of a live object, as Argo CD tells it: the rollout rules for workloads, Argo CD's
//! rules for Pods, Jobs, PersistentVolumeClaims and Services, and healthy for kinds whose status
//! says nothing about health (ConfigMap, Secret, ...). Pure functions over the few status
//! fields they read.

use std::fmt;

use crate::rollout::Rollout;

/// How a live object is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Running as asked: a workload rolled out, a ready or finished pod, a bound claim, or a kind
    /// without health of its own.
    Healthy,
    /// On its way: a rollout, a pending pod, a running job, an object being deleted.
    Progressing,
    /// Failed or stuck: a rollout past its deadline, a crash-looping or failed pod, a failed job,
    /// a lost claim.
    Degraded,
    /// Its status cannot be read (an unknown pod phase, a malformed object).
    Unknown,
}

impl Health {
    /// As the API writes it: `healthy`, `progressing`, `degraded`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Progressing => "progressing",
            Self::Degraded => "degraded",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The health of a workload from its rollout: progressing and failed rollouts are progressing
/// and degraded, with their reason; a finished one is healthy, with `<subject> successfully
/// rolled out` (`subject` as `deployment "hello"`).
pub fn rollout_health(subject: &str, rollout: &Rollout) -> (Health, String) {
    match rollout {
        Rollout::Progressing(reason) => (Health::Progressing, reason.clone()),
        Rollout::Done => (
            Health::Healthy,
            format!("{subject} successfully rolled out"),
        ),
        Rollout::Failed(reason) => (Health::Degraded, reason.clone()),
    }
}

/// The state of one container of a pod (`status.containerStatuses[]` or
/// `status.initContainerStatuses[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerState {
    /// Its name.
    pub name: String,
    /// `state.waiting.reason`, when it waits.
    pub waiting_reason: Option<String>,
    /// `state.waiting.message`.
    pub waiting_message: Option<String>,
    /// Whether `state.terminated` is set.
    pub terminated: bool,
    /// `state.terminated.reason`.
    pub terminated_reason: Option<String>,
    /// `state.terminated.message`.
    pub terminated_message: Option<String>,
    /// `state.terminated.exitCode` (0 when absent).
    pub exit_code: i32,
    /// Whether `lastState.terminated` is set: it ended at least once before.
    pub terminated_before: bool,
}

/// What the pod rule reads. Absent fields are `None`, false or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodState {
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: Option<String>,
    /// `status.message`.
    pub message: Option<String>,
    /// `spec.restartPolicy`; `None` is `Always`, the API's default.
    pub restart_policy: Option<String>,
    /// Whether the condition `Ready` is `True`.
    pub ready: bool,
    /// `status.initContainerStatuses`.
    pub init_containers: Vec<ContainerState>,
    /// `status.containerStatuses`.
    pub containers: Vec<ContainerState>,
}

/// Whether a waiting reason means the container does not start by itself: Argo CD's rule,
/// reasons starting `Err` or ending `Error` or `BackOff` (`ErrImagePull`,
/// `CreateContainerConfigError`, `ImagePullBackOff`, `CrashLoopBackOff`, ...).
fn stuck(reason: &str) -> bool {
    reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
}

/// The health of a pod, by Argo CD's rules:
///
/// - with restart policy `Always`, a container waiting for a reason that does not resolve by
///   itself (`ImagePullBackOff`, `CrashLoopBackOff`, `ErrImagePull`, `...Error`) is degraded,
///   the message naming each such container, its reason and the kubelet's message;
/// - `Pending` is progressing; `Succeeded` healthy;
/// - `Failed` is degraded, with the pod's message, else the first terminated container's
///   message, `OOMKilled`, or its exit code;
/// - `Running` with restart policy `Always` is healthy when ready, degraded when not ready and
///   a container has terminated before (it restarts), else progressing; `Running` with
///   `OnFailure` or `Never` (a run-to-completion pod) is progressing;
/// - anything else is unknown.
///
/// Messages are the pod's `status.message` unless said otherwise.
pub fn pod_health(pod: &PodState) -> (Health, String) {
    let message = || pod.message.clone().unwrap_or_default();
    let always = pod.restart_policy.as_deref().is_none_or(|p| p == "Always");
    if always {
        let stuck: Vec<String> = pod
            .containers
            .iter()
            .filter_map(|c| {
                let reason = c.waiting_reason.as_deref().filter(|r| stuck(r))?;
                let mut text = format!("container {}: {reason}", c.name);
                if let Some(detail) = c.waiting_message.as_deref().filter(|m| !m.is_empty()) {
                    text.push_str(": ");
                    text.push_str(detail);
                }
                Some(text)
            })
            .collect();
        if !stuck.is_empty() {
            return (Health::Degraded, stuck.join(", "));
        }
    }
    match pod.phase.as_deref() {
        Some("Pending") => (Health::Progressing, message()),
        Some("Succeeded") => (Health::Healthy, message()),
        Some("Failed") => {
            if let Some(text) = pod.message.clone().filter(|m| !m.is_empty()) {
                return (Health::Degraded, text);
            }
            let failure = pod
                .init_containers
                .iter()
                .chain(&pod.containers)
                .find_map(failure_message);
            (Health::Degraded, failure.unwrap_or_default())
        }
        Some("Running") => match pod.restart_policy.as_deref() {
            None | Some("Always") if pod.ready => (Health::Healthy, message()),
            None | Some("Always") if pod.containers.iter().any(|c| c.terminated_before) => {
                (Health::Degraded, message())
            }
            None | Some("Always" | "OnFailure" | "Never") => (Health::Progressing, message()),
            Some(_) => (Health::Unknown, message()),
        },
        _ => (Health::Unknown, message()),
    }
}

fn failure_message(container: &ContainerState) -> Option<String> {
    if !container.terminated {
        return None;
    }
    if let Some(message) = container
        .terminated_message
        .clone()
        .filter(|m| !m.is_empty())
    {
        return Some(message);
    }
    if container.terminated_reason.as_deref() == Some("OOMKilled") {
        return Some("OOMKilled".into());
    }
    (container.exit_code != 0).then(|| {
        format!(
            "container {:?} failed with exit code {}",
            container.name, container.exit_code
        )
    })
}

/// A status condition: `type`, `status` (`True`, `False`, `Unknown`) and `message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCondition {
    /// `type`, e.g. `Complete`.
    pub kind: String,
    /// `status`.
    pub status: String,
    /// `message`.
    pub message: Option<String>,
}

/// The health of a Job from its conditions, by Argo CD's rules: `Failed` is degraded (with its
/// message), `Complete` healthy, `Suspended` progressing ("job suspended" unless it says more);
/// without any of them it is progressing. Conditions whose status is not `True` are ignored.
pub fn job_health(conditions: &[StatusCondition]) -> (Health, String) {
    let condition = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.kind == kind && c.status == "True")
    };
    let message = |c: &StatusCondition| c.message.clone().unwrap_or_default();
    if let Some(failed) = condition("Failed") {
        return (Health::Degraded, message(failed));
    }
    if let Some(complete) = condition("Complete") {
        return (Health::Healthy, message(complete));
    }
    if let Some(suspended) = condition("Suspended") {
        let text = suspended
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "job suspended".into());
        return (Health::Progressing, text);
    }
    (Health::Progressing, String::new())
}

/// The health of a PersistentVolumeClaim from `status.phase`, by Argo CD's rules: `Bound`
/// healthy, `Pending` progressing, `Lost` degraded, anything else unknown.
pub fn claim_health(phase: Option<&str>) -> (Health, String) {
    match phase {
        Some("Bound") => (Health::Healthy, String::new()),
        Some("Pending") => (
            Health::Progressing,
            "waiting for the claim to be bound".into(),
        ),
        Some("Lost") => (Health::Degraded, "the claim lost its volume".into()),
        _ => (Health::Unknown, String::new()),
    }
}

/// The health of a Service, by Argo CD's rule: a `LoadBalancer` without an ingress address in
/// its status is progressing; every other Service is healthy.
pub fn service_health(service_type: Option<&str>, has_ingress: bool) -> (Health, String) {
    if service_type == Some("LoadBalancer") && !has_ingress {
        return (
            Health::Progressing,
            "waiting for the load balancer's address".into(),
        );
    }
    (Health::Healthy, String::new())
}

/// The health of an object being deleted (`metadata.deletionTimestamp` set), whatever its kind.
pub fn deleting_health() -> (Health, String) {
    (Health::Progressing, "Pending deletion".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running_ready() -> PodState {
        PodState {
            phase: Some("Running".into()),
            ready: true,
            containers: vec![ContainerState {
                name: "app".into(),
                ..ContainerState::default()
            }],
            ..PodState::default()
        }
    }

    fn waiting(reason: &str, message: Option<&str>) -> ContainerState {
        ContainerState {
            name: "app".into(),
            waiting_reason: Some(reason.into()),
            waiting_message: message.map(Into::into),
            ..ContainerState::default()
        }
    }

    #[test]
    fn health_displays_as_the_api_writes_it() {
        assert_eq!(Health::Healthy.to_string(), "healthy");
        assert_eq!(Health::Progressing.to_string(), "progressing");
        assert_eq!(Health::Degraded.to_string(), "degraded");
        assert_eq!(Health::Unknown.to_string(), "unknown");
    }

    #[test]
    fn rollouts_map_to_progressing_healthy_and_degraded() {
        assert_eq!(
            rollout_health(
                "deployment \"web\"",
                &Rollout::Progressing("waiting".into())
            ),
            (Health::Progressing, "waiting".into())
        );
        assert_eq!(
            rollout_health("deployment \"web\"", &Rollout::Done),
            (
                Health::Healthy,
                "deployment \"web\" successfully rolled out".into()
            )
        );
        assert_eq!(
            rollout_health("deployment \"web\"", &Rollout::Failed("deadline".into())),
            (Health::Degraded, "deadline".into())
        );
    }

    #[test]
    fn a_running_ready_pod_is_healthy() {
        assert_eq!(
            pod_health(&running_ready()),
            (Health::Healthy, String::new())
        );
    }

    #[test]
    fn a_pending_pod_is_progressing_with_its_message() {
        let pod = PodState {
            phase: Some("Pending".into()),
            message: Some("0/3 nodes are available".into()),
            ..PodState::default()
        };
        assert_eq!(
            pod_health(&pod),
            (Health::Progressing, "0/3 nodes are available".into())
        );
    }

    #[test]
    fn a_succeeded_pod_is_healthy() {
        let pod = PodState {
            phase: Some("Succeeded".into()),
            restart_policy: Some("Never".into()),
            ..PodState::default()
        };
        assert_eq!(pod_health(&pod).0, Health::Healthy);
    }

    #[test]
    fn containers_in_back_off_or_err_are_degraded_naming_each() {
        for reason in [
            "ImagePullBackOff",
            "CrashLoopBackOff",
            "ErrImagePull",
            "CreateContainerConfigError",
        ] {
            let pod = PodState {
                phase: Some("Pending".into()),
                containers: vec![waiting(reason, None)],
                ..PodState::default()
            };
            assert_eq!(
                pod_health(&pod),
                (Health::Degraded, format!("container app: {reason}")),
                "{reason}"
            );
        }
        let pod = PodState {
            phase: Some("Running".into()),
            containers: vec![
                waiting(
                    "ImagePullBackOff",
                    Some("Back-off pulling image \"nginx:nope\""),
                ),
                ContainerState {
                    name: "sidecar".into(),
                    waiting_reason: Some("CrashLoopBackOff".into()),
                    waiting_message: Some("back-off 5m0s".into()),
                    ..ContainerState::default()
                },
            ],
            ..PodState::default()
        };
        assert_eq!(
            pod_health(&pod),
            (
                Health::Degraded,
                "container app: ImagePullBackOff: Back-off pulling image \"nginx:nope\", \
                 container sidecar: CrashLoopBackOff: back-off 5m0s"
                    .into()
            )
        );
    }

    #[test]
    fn waiting_to_be_created_is_not_degraded() {
        let pod = PodState {
            phase: Some("Pending".into()),
            containers: vec![waiting("ContainerCreating", None)],
            ..PodState::default()
        };
        assert_eq!(pod_health(&pod).0, Health::Progressing);
    }

    #[test]
    fn back_off_of_a_run_to_completion_pod_is_not_degraded_yet() {
        let pod = PodState {
            phase: Some("Pending".into()),
            restart_policy: Some("Never".into()),
            containers: vec![waiting("ImagePullBackOff", None)],
            ..PodState::default()
        };
        assert_eq!(pod_health(&pod).0, Health::Progressing);
    }

    #[test]
    fn a_failed_pod_is_degraded_with_the_best_message_there_is() {
        let mut pod = PodState {
            phase: Some("Failed".into()),
            message: Some("Pod was evicted".into()),
            restart_policy: Some("Never".into()),
            ..PodState::default()
        };
        assert_eq!(
            pod_health(&pod),
            (Health::Degraded, "Pod was evicted".into())
        );
        pod.message = None;
        pod.containers = vec![ContainerState {
            name: "app".into(),
            terminated: true,
            exit_code: 3,
            ..ContainerState::default()
        }];
        assert_eq!(
            pod_health(&pod),
            (
                Health::Degraded,
                "container \"app\" failed with exit code 3".into()
            )
        );
        pod.containers[0].terminated_reason = Some("OOMKilled".into());
        assert_eq!(pod_health(&pod), (Health::Degraded, "OOMKilled".into()));
        pod.init_containers = vec![ContainerState {
            name: "migrate".into(),
            terminated: true,
            terminated_message: Some("migration 42 failed".into()),
            exit_code: 1,
            ..ContainerState::default()
        }];
        assert_eq!(
            pod_health(&pod),
            (Health::Degraded, "migration 42 failed".into())
        );
        pod.init_containers.clear();
        pod.containers.clear();
        assert_eq!(pod_health(&pod), (Health::Degraded, String::new()));
    }

    #[test]
    fn a_running_pod_not_ready_progresses_unless_it_restarted() {
        let mut pod = PodState {
            ready: false,
            ..running_ready()
        };
        assert_eq!(pod_health(&pod).0, Health::Progressing);
        pod.containers[0].terminated_before = true;
        assert_eq!(pod_health(&pod).0, Health::Degraded);
    }

    #[test]
    fn a_running_run_to_completion_pod_is_progressing_even_when_ready() {
        for policy in ["OnFailure", "Never"] {
            let pod = PodState {
                restart_policy: Some(policy.into()),
                ..running_ready()
            };
            assert_eq!(pod_health(&pod).0, Health::Progressing, "{policy}");
        }
    }

    #[test]
    fn an_unknown_or_absent_phase_is_unknown() {
        for phase in [None, Some("Unknown".into())] {
            let pod = PodState {
                phase,
                ..PodState::default()
            };
            assert_eq!(pod_health(&pod).0, Health::Unknown);
        }
    }

    fn condition(kind: &str, status: &str, message: &str) -> StatusCondition {
        StatusCondition {
            kind: kind.into(),
            status: status.into(),
            message: Some(message.into()),
        }
    }

    #[test]
    fn jobs_fail_complete_or_progress() {
        assert_eq!(job_health(&[]), (Health::Progressing, String::new()));
        assert_eq!(
            job_health(&[condition("Complete", "True", "done")]),
            (Health::Healthy, "done".into())
        );
        assert_eq!(
            job_health(&[
                condition("Complete", "False", ""),
                condition("Failed", "True", "BackoffLimitExceeded")
            ]),
            (Health::Degraded, "BackoffLimitExceeded".into())
        );
        assert_eq!(
            job_health(&[condition("Failed", "False", "not yet")]),
            (Health::Progressing, String::new())
        );
        assert_eq!(
            job_health(&[condition("Suspended", "True", "")]),
            (Health::Progressing, "job suspended".into())
        );
    }

    #[test]
    fn claims_are_healthy_when_bound() {
        assert_eq!(claim_health(Some("Bound")).0, Health::Healthy);
        assert_eq!(claim_health(Some("Pending")).0, Health::Progressing);
        assert_eq!(claim_health(Some("Lost")).0, Health::Degraded);
        assert_eq!(claim_health(None).0, Health::Unknown);
    }

    #[test]
    fn only_a_load_balancer_without_an_address_is_progressing() {
        assert_eq!(service_health(None, false).0, Health::Healthy);
        assert_eq!(service_health(Some("ClusterIP"), false).0, Health::Healthy);
        assert_eq!(
            service_health(Some("LoadBalancer"), false).0,
            Health::Progressing
        );
        assert_eq!(
            service_health(Some("LoadBalancer"), true).0,
            Health::Healthy
        );
    }

    #[test]
    fn an_object_being_deleted_is_progressing() {
        assert_eq!(
            deleting_health(),
            (Health::Progressing, "Pending deletion".into())
        );
    }
}
