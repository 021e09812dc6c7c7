//! The status fields of workloads, read from their JSON into the domain's rollout inputs.

use kube::api::DynamicObject;
use kubernaut_domain::{DaemonSetState, DeploymentState, StatefulSetState};
use serde_json::Value;

fn i64_at(data: &Value, pointer: &str) -> Option<i64> {
    data.pointer(pointer).and_then(Value::as_i64)
}

fn i32_at(data: &Value, pointer: &str) -> Option<i32> {
    i64_at(data, pointer).and_then(|n| i32::try_from(n).ok())
}

fn str_at(data: &Value, pointer: &str) -> Option<String> {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn generation(object: &DynamicObject) -> i64 {
    object.metadata.generation.unwrap_or_default()
}

/// Whether the workload's controller has seen its latest spec.
pub(crate) fn observed(object: &DynamicObject) -> bool {
    generation(object) <= i64_at(&object.data, "/status/observedGeneration").unwrap_or_default()
}

/// What the Deployment rule reads.
pub(crate) fn deployment(object: &DynamicObject) -> DeploymentState {
    let data = &object.data;
    let progressing = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Progressing"))
        });
    DeploymentState {
        generation: generation(object),
        observed_generation: i64_at(data, "/status/observedGeneration").unwrap_or_default(),
        replicas: i32_at(data, "/spec/replicas"),
        status_replicas: i32_at(data, "/status/replicas").unwrap_or_default(),
        updated_replicas: i32_at(data, "/status/updatedReplicas").unwrap_or_default(),
        available_replicas: i32_at(data, "/status/availableReplicas").unwrap_or_default(),
        progressing_reason: progressing.and_then(|c| str_at(c, "/reason")),
        progressing_message: progressing.and_then(|c| str_at(c, "/message")),
    }
}

/// What the StatefulSet rule reads. The partition counts only for the `RollingUpdate`
/// strategy (the default).
pub(crate) fn stateful_set(object: &DynamicObject) -> StatefulSetState {
    let data = &object.data;
    let rolling_update =
        str_at(data, "/spec/updateStrategy/type").is_none_or(|t| t == "RollingUpdate");
    StatefulSetState {
        generation: generation(object),
        observed_generation: i64_at(data, "/status/observedGeneration").unwrap_or_default(),
        replicas: i32_at(data, "/spec/replicas"),
        ready_replicas: i32_at(data, "/status/readyReplicas").unwrap_or_default(),
        updated_replicas: i32_at(data, "/status/updatedReplicas").unwrap_or_default(),
        partition: i32_at(data, "/spec/updateStrategy/rollingUpdate/partition")
            .filter(|_| rolling_update),
        update_revision: str_at(data, "/status/updateRevision").unwrap_or_default(),
        current_revision: str_at(data, "/status/currentRevision").unwrap_or_default(),
    }
}

/// What the DaemonSet rule reads.
pub(crate) fn daemon_set(object: &DynamicObject) -> DaemonSetState {
    let data = &object.data;
    DaemonSetState {
        generation: generation(object),
        observed_generation: i64_at(data, "/status/observedGeneration").unwrap_or_default(),
        desired_number_scheduled: i32_at(data, "/status/desiredNumberScheduled")
            .unwrap_or_default(),
        updated_number_scheduled: i32_at(data, "/status/updatedNumberScheduled")
            .unwrap_or_default(),
        number_available: i32_at(data, "/status/numberAvailable").unwrap_or_default(),
    }
}

/// The StatefulSet's `status.updateRevision`, if set.
pub(crate) fn update_revision(object: &DynamicObject) -> Option<String> {
    str_at(&object.data, "/status/updateRevision").filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dynamic(generation: i64, data: Value) -> DynamicObject {
        let mut object: DynamicObject = serde_json::from_value(data).unwrap();
        object.metadata.generation = Some(generation);
        object
    }

    #[test]
    fn deployment_fields_come_from_spec_status_and_the_progressing_condition() {
        let object = dynamic(
            3,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"},
                "spec": {"replicas": 3},
                "status": {
                    "observedGeneration": 2, "replicas": 4, "updatedReplicas": 2,
                    "availableReplicas": 1,
                    "conditions": [
                        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
                        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                         "message": "timed out"}
                    ]
                }
            }),
        );
        assert_eq!(
            deployment(&object),
            DeploymentState {
                generation: 3,
                observed_generation: 2,
                replicas: Some(3),
                status_replicas: 4,
                updated_replicas: 2,
                available_replicas: 1,
                progressing_reason: Some("ProgressDeadlineExceeded".into()),
                progressing_message: Some("timed out".into()),
            }
        );
        assert!(!observed(&object));
    }

    #[test]
    fn absent_fields_are_zero_or_none() {
        let object = dynamic(
            1,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"}}),
        );
        assert_eq!(
            deployment(&object),
            DeploymentState {
                generation: 1,
                ..DeploymentState::default()
            }
        );
        assert_eq!(daemon_set(&object).observed_generation, 0);
        assert_eq!(update_revision(&object), None);
    }

    #[test]
    fn stateful_set_partition_counts_only_for_rolling_updates() {
        let rolling = dynamic(
            2,
            json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                "spec": {"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 1}}},
                "status": {"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 2,
                           "updateRevision": "db-2", "currentRevision": "db-1"}
            }),
        );
        assert_eq!(
            stateful_set(&rolling),
            StatefulSetState {
                generation: 2,
                observed_generation: 2,
                replicas: Some(3),
                ready_replicas: 3,
                updated_replicas: 2,
                partition: Some(1),
                update_revision: "db-2".into(),
                current_revision: "db-1".into(),
            }
        );
        assert_eq!(update_revision(&rolling).as_deref(), Some("db-2"));
        let mut on_delete = rolling;
        on_delete.data["spec"]["updateStrategy"]["type"] = json!("OnDelete");
        assert_eq!(stateful_set(&on_delete).partition, None);
    }

    #[test]
    fn daemon_set_fields_come_from_status() {
        let object = dynamic(
            5,
            json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                "status": {"observedGeneration": 5, "desiredNumberScheduled": 4,
                           "updatedNumberScheduled": 3, "numberAvailable": 2}
            }),
        );
        assert_eq!(
            daemon_set(&object),
            DaemonSetState {
                generation: 5,
                observed_generation: 5,
                desired_number_scheduled: 4,
                updated_number_scheduled: 3,
                number_available: 2,
            }
        );
        assert!(observed(&object));
    }
}
