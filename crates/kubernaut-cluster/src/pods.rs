//! Which pods belong to a workload's current revision, and which of their containers wait.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::DynamicObject;
use kube::core::{Expression, Selector, SelectorExt};
use kubernaut_domain::ContainerWaiting;
use serde_json::Value;

/// The label with which the deployment controller ties a ReplicaSet and its pods.
pub(crate) const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The label with which StatefulSet and DaemonSet controllers tie pods to a ControllerRevision.
pub(crate) const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";
/// The annotation holding a ReplicaSet's revision number within its Deployment.
const DEPLOYMENT_REVISION: &str = "deployment.kubernetes.io/revision";

/// The workload's `spec.selector` (matchLabels and matchExpressions); `None` when absent,
/// invalid, or selecting everything (no pod could be told apart from the others).
pub(crate) fn selector(workload: &DynamicObject) -> Option<Selector> {
    let selector = workload.data.pointer("/spec/selector")?.clone();
    let selector: LabelSelector = serde_json::from_value(selector).ok()?;
    Selector::try_from(selector)
        .ok()
        .filter(|selector| !selector.selects_all())
}

/// Narrows a selector to the pods carrying `label=value`.
pub(crate) fn with_label(mut selector: Selector, label: &str, value: String) -> Selector {
    selector.extend(Expression::Equal(label.to_owned(), value));
    selector
}

fn owned_by(object: &DynamicObject, owner_uid: &str) -> bool {
    object
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| owner.uid == owner_uid)
}

fn label(object: &DynamicObject, key: &str) -> Option<String> {
    object.metadata.labels.as_ref()?.get(key).cloned()
}

/// The `pod-template-hash` of the newest ReplicaSet owned by the Deployment `owner_uid`.
pub(crate) fn newest_replica_set_hash(
    replica_sets: &[DynamicObject],
    owner_uid: &str,
) -> Option<String> {
    let revision = |rs: &DynamicObject| {
        rs.metadata
            .annotations
            .as_ref()?
            .get(DEPLOYMENT_REVISION)?
            .parse::<i64>()
            .ok()
    };
    newest(replica_sets, owner_uid, revision).and_then(|rs| label(rs, POD_TEMPLATE_HASH))
}

/// The `controller-revision-hash` of the newest ControllerRevision owned by `owner_uid`.
pub(crate) fn newest_controller_revision_hash(
    revisions: &[DynamicObject],
    owner_uid: &str,
) -> Option<String> {
    let revision = |cr: &DynamicObject| cr.data.get("revision").and_then(Value::as_i64);
    newest(revisions, owner_uid, revision).and_then(|cr| label(cr, CONTROLLER_REVISION_HASH))
}

fn newest<'a>(
    objects: &'a [DynamicObject],
    owner_uid: &str,
    revision: impl Fn(&DynamicObject) -> Option<i64>,
) -> Option<&'a DynamicObject> {
    objects
        .iter()
        .filter(|object| owned_by(object, owner_uid))
        .filter_map(|object| Some((revision(object)?, object)))
        .max_by_key(|(revision, _)| *revision)
        .map(|(_, object)| object)
}

/// The waiting containers (init containers first) of the pods that `selector` matches,
/// checked here too in case the API server ignored the label selector.
pub(crate) fn waiting_containers(
    pods: &[DynamicObject],
    selector: &Selector,
) -> Vec<ContainerWaiting> {
    pods.iter()
        .filter(|pod| selector.matches(pod.metadata.labels.as_ref().unwrap_or(&Default::default())))
        .flat_map(|pod| {
            let name = pod.metadata.name.clone().unwrap_or_default();
            ["/status/initContainerStatuses", "/status/containerStatuses"]
                .into_iter()
                .filter_map(|pointer| pod.data.pointer(pointer).and_then(Value::as_array))
                .flatten()
                .filter_map(move |status| {
                    let waiting = status.pointer("/state/waiting")?;
                    Some(ContainerWaiting {
                        pod: name.clone(),
                        container: status.get("name")?.as_str()?.to_owned(),
                        reason: waiting.get("reason")?.as_str()?.to_owned(),
                        message: waiting
                            .get("message")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dynamic(data: Value) -> DynamicObject {
        serde_json::from_value(data).unwrap()
    }

    fn owned(kind: &str, name: &str, owner: &str, metadata: Value, extra: Value) -> DynamicObject {
        let mut data = json!({
            "apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello", "uid": owner}
            ]}
        });
        for (key, value) in metadata.as_object().unwrap() {
            data["metadata"][key] = value.clone();
        }
        for (key, value) in extra.as_object().unwrap() {
            data[key] = value.clone();
        }
        dynamic(data)
    }

    #[test]
    fn the_selector_takes_match_labels_and_expressions_and_refuses_select_all() {
        let workload = dynamic(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"},
            "spec": {"selector": {
                "matchLabels": {"app": "hello"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]
            }}
        }));
        assert_eq!(
            selector(&workload).unwrap().to_string(),
            "app=hello,tier in (web)"
        );
        let empty = dynamic(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"},
            "spec": {"selector": {}}
        }));
        assert_eq!(selector(&empty), None);
        let absent = dynamic(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"}
        }));
        assert_eq!(selector(&absent), None);
    }

    #[test]
    fn the_newest_owned_replica_set_gives_the_pod_template_hash() {
        let replica_sets = [
            owned(
                "ReplicaSet",
                "hello-old",
                "uid-1",
                json!({"annotations": {DEPLOYMENT_REVISION: "9"}, "labels": {POD_TEMPLATE_HASH: "old"}}),
                json!({}),
            ),
            owned(
                "ReplicaSet",
                "hello-new",
                "uid-1",
                json!({"annotations": {DEPLOYMENT_REVISION: "10"}, "labels": {POD_TEMPLATE_HASH: "new"}}),
                json!({}),
            ),
            owned(
                "ReplicaSet",
                "other",
                "uid-2",
                json!({"annotations": {DEPLOYMENT_REVISION: "11"}, "labels": {POD_TEMPLATE_HASH: "other"}}),
                json!({}),
            ),
        ];
        assert_eq!(
            newest_replica_set_hash(&replica_sets, "uid-1").as_deref(),
            Some("new")
        );
        assert_eq!(newest_replica_set_hash(&replica_sets, "uid-3"), None);
    }

    #[test]
    fn the_newest_owned_controller_revision_gives_the_revision_hash() {
        let revisions = [
            owned(
                "ControllerRevision",
                "agent-b",
                "uid-1",
                json!({"labels": {CONTROLLER_REVISION_HASH: "b"}}),
                json!({"revision": 2}),
            ),
            owned(
                "ControllerRevision",
                "agent-a",
                "uid-1",
                json!({"labels": {CONTROLLER_REVISION_HASH: "a"}}),
                json!({"revision": 1}),
            ),
        ];
        assert_eq!(
            newest_controller_revision_hash(&revisions, "uid-1").as_deref(),
            Some("b")
        );
    }

    #[test]
    fn waiting_containers_of_matching_pods_init_containers_first() {
        let pod = |name: &str, app: &str| {
            dynamic(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": app, POD_TEMPLATE_HASH: "new"}},
                "status": {
                    "containerStatuses": [
                        {"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "nope"}}},
                        {"name": "sidecar", "state": {"running": {}}}
                    ],
                    "initContainerStatuses": [
                        {"name": "migrate", "state": {"waiting": {"reason": "PodInitializing"}}}
                    ]
                }
            }))
        };
        let pods = [pod("hello-1", "hello"), pod("other-1", "other")];
        let selector = with_label(
            [("app".to_owned(), "hello".to_owned())]
                .into_iter()
                .collect(),
            POD_TEMPLATE_HASH,
            "new".into(),
        );
        assert_eq!(
            waiting_containers(&pods, &selector),
            [
                ContainerWaiting {
                    pod: "hello-1".into(),
                    container: "migrate".into(),
                    reason: "PodInitializing".into(),
                    message: None,
                },
                ContainerWaiting {
                    pod: "hello-1".into(),
                    container: "app".into(),
                    reason: "ImagePullBackOff".into(),
                    message: Some("nope".into()),
                },
            ]
        );
        let older = with_label(
            [("app".to_owned(), "hello".to_owned())]
                .into_iter()
                .collect(),
            POD_TEMPLATE_HASH,
            "old".into(),
        );
        assert_eq!(waiting_containers(&pods, &older), []);
    }
}
