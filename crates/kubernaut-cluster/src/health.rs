//! The health of a live object: its status read from JSON into the domain's health rules.

use kube::api::DynamicObject;
use kubernaut_domain::{
    ContainerState, Health, PodState, StatusCondition, claim_health, daemon_set_rollout,
    deleting_health, deployment_rollout, job_health, pod_health, rollout_health, service_health,
    stateful_set_rollout,
};
use serde_json::Value;

use crate::object::{LiveObject, group};
use crate::states;

fn text(data: &Value, pointer: &str) -> Option<String> {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn array<'a>(data: &'a Value, pointer: &str) -> &'a [Value] {
    data.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// How a live object is doing, with a message (empty when there is nothing to say):
///
/// - an object being deleted is progressing ("Pending deletion");
/// - `apps` Deployments, StatefulSets and DaemonSets follow their rollout rules (as
///   `kubectl rollout status`, from their status alone): progressing, done (healthy) or failed
///   (degraded), with kubectl's words;
/// - Pods, Jobs, PersistentVolumeClaims and Services follow Argo CD's rules (see
///   [`pod_health`], [`job_health`], [`claim_health`], [`service_health`]);
/// - every other kind (ConfigMap, Secret, ServiceAccount, Ingress, custom resources, ...) has
///   no health of its own and is healthy.
///
/// A workload whose document cannot be read as an object is unknown, the message saying why.
pub fn health(object: &LiveObject) -> (Health, String) {
    let body = &object.body;
    if body
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return deleting_health();
    }
    match (group(&object.api_version), object.kind.as_str()) {
        ("apps", kind @ ("Deployment" | "StatefulSet" | "DaemonSet")) => {
            let current: DynamicObject = match serde_json::from_value(body.clone()) {
                Ok(current) => current,
                Err(error) => {
                    return (
                        Health::Unknown,
                        format!("cannot read {}: {error}", object.display_name()),
                    );
                }
            };
            let name = &object.name;
            match kind {
                "Deployment" => rollout_health(
                    &format!("deployment {name:?}"),
                    &deployment_rollout(name, &states::deployment(&current)),
                ),
                "StatefulSet" => rollout_health(
                    &format!("statefulset {name:?}"),
                    &stateful_set_rollout(name, &states::stateful_set(&current)),
                ),
                _ => rollout_health(
                    &format!("daemon set {name:?}"),
                    &daemon_set_rollout(name, &states::daemon_set(&current)),
                ),
            }
        }
        ("", "Pod") => pod_health(&pod(body)),
        ("batch", "Job") => job_health(&conditions(body)),
        ("", "PersistentVolumeClaim") => claim_health(text(body, "/status/phase").as_deref()),
        ("", "Service") => service_health(
            text(body, "/spec/type").as_deref(),
            !array(body, "/status/loadBalancer/ingress").is_empty(),
        ),
        _ => (Health::Healthy, String::new()),
    }
}

fn conditions(body: &Value) -> Vec<StatusCondition> {
    array(body, "/status/conditions")
        .iter()
        .map(|c| StatusCondition {
            kind: text(c, "/type").unwrap_or_default(),
            status: text(c, "/status").unwrap_or_default(),
            message: text(c, "/message"),
        })
        .collect()
}

fn containers(body: &Value, pointer: &str) -> Vec<ContainerState> {
    array(body, pointer)
        .iter()
        .map(|c| ContainerState {
            name: text(c, "/name").unwrap_or_default(),
            waiting_reason: text(c, "/state/waiting/reason"),
            waiting_message: text(c, "/state/waiting/message"),
            terminated: c.pointer("/state/terminated").is_some_and(Value::is_object),
            terminated_reason: text(c, "/state/terminated/reason"),
            terminated_message: text(c, "/state/terminated/message"),
            exit_code: c
                .pointer("/state/terminated/exitCode")
                .and_then(Value::as_i64)
                .and_then(|code| i32::try_from(code).ok())
                .unwrap_or_default(),
            terminated_before: c
                .pointer("/lastState/terminated")
                .is_some_and(Value::is_object),
        })
        .collect()
}

fn pod(body: &Value) -> PodState {
    PodState {
        phase: text(body, "/status/phase"),
        message: text(body, "/status/message"),
        restart_policy: text(body, "/spec/restartPolicy"),
        ready: conditions(body)
            .iter()
            .any(|c| c.kind == "Ready" && c.status == "True"),
        init_containers: containers(body, "/status/initContainerStatuses"),
        containers: containers(body, "/status/containerStatuses"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn live(body: Value) -> LiveObject {
        LiveObject::from_body(body).unwrap()
    }

    #[test]
    fn a_deployment_follows_its_rollout() {
        let mut deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "team", "generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1,
                       "availableReplicas": 1}
        });
        assert_eq!(
            health(&live(deployment.clone())),
            (
                Health::Progressing,
                "Waiting for deployment \"web\" rollout to finish: 1 out of 2 new replicas have \
                 been updated..."
                    .into()
            )
        );
        deployment["status"] = json!({"observedGeneration": 2, "replicas": 2,
                                      "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(
            health(&live(deployment.clone())),
            (
                Health::Healthy,
                "deployment \"web\" successfully rolled out".into()
            )
        );
        deployment["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "timed out"}]);
        assert_eq!(
            health(&live(deployment)),
            (
                Health::Degraded,
                "deployment \"web\" exceeded its progress deadline: timed out".into()
            )
        );
    }

    #[test]
    fn stateful_and_daemon_sets_follow_their_rollouts() {
        let db = json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1,
                       "currentRevision": "db-1", "updateRevision": "db-1"}
        });
        assert_eq!(
            health(&live(db)),
            (
                Health::Healthy,
                "statefulset \"db\" successfully rolled out".into()
            )
        );
        let agent = json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
                       "updatedNumberScheduled": 2, "numberAvailable": 1}
        });
        assert_eq!(health(&live(agent)).0, Health::Progressing);
    }

    #[test]
    fn pods_follow_argo_cds_rules() {
        let pod = |status: Value| {
            live(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web-1", "namespace": "team"},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
                "status": status
            }))
        };
        assert_eq!(
            health(&pod(json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "state": {"running": {}}}]
            }))),
            (Health::Healthy, String::new())
        );
        assert_eq!(
            health(&pod(json!({"phase": "Pending"}))).0,
            Health::Progressing
        );
        assert_eq!(
            health(&pod(json!({
                "phase": "Pending",
                "containerStatuses": [{"name": "app", "ready": false, "state": {"waiting": {
                    "reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]
            }))),
            (
                Health::Degraded,
                "container app: ImagePullBackOff: Back-off pulling image".into()
            )
        );
        assert_eq!(
            health(&pod(json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "ready": false,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1}}}]
            }))),
            (Health::Degraded, "container app: CrashLoopBackOff".into())
        );
        assert_eq!(
            health(&pod(json!({
                "phase": "Failed",
                "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 2}}}]
            }))),
            (
                Health::Degraded,
                "container \"app\" failed with exit code 2".into()
            )
        );
        assert_eq!(
            health(&pod(json!({"phase": "Succeeded"}))).0,
            Health::Healthy
        );
        assert_eq!(health(&pod(json!({}))).0, Health::Unknown);
    }

    #[test]
    fn jobs_claims_and_load_balancers_follow_argo_cds_rules() {
        let job = live(json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
            "status": {"conditions": [{"type": "Failed", "status": "True",
                                       "message": "Job has reached the specified backoff limit"}]}
        }));
        assert_eq!(
            health(&job),
            (
                Health::Degraded,
                "Job has reached the specified backoff limit".into()
            )
        );
        let claim = live(json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "status": {"phase": "Bound"}
        }));
        assert_eq!(health(&claim).0, Health::Healthy);
        let balancer = |status: Value| {
            live(json!({
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"type": "LoadBalancer"}, "status": status
            }))
        };
        assert_eq!(
            health(&balancer(json!({"loadBalancer": {}}))).0,
            Health::Progressing
        );
        assert_eq!(
            health(&balancer(
                json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}})
            ))
            .0,
            Health::Healthy
        );
    }

    #[test]
    fn kinds_without_health_are_healthy_and_deletion_is_progressing() {
        for (api_version, kind) in [
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "Service"),
            ("v1", "ServiceAccount"),
            ("networking.k8s.io/v1", "Ingress"),
            ("example.com/v1", "Widget"),
            ("example.com/v1", "Deployment"),
        ] {
            let object = live(json!({
                "apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}
            }));
            assert_eq!(
                health(&object),
                (Health::Healthy, String::new()),
                "{api_version} {kind}"
            );
        }
        let deleting = live(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}
        }));
        assert_eq!(
            health(&deleting),
            (Health::Progressing, "Pending deletion".into())
        );
    }
}
