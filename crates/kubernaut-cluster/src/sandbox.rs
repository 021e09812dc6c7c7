use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use kubernaut_domain::{APPLYSET_PART_OF_LABEL, GroupKind, Rollout};
use serde_json::{Value, json};

use crate::cluster::{Applied, Cluster};
use crate::diff::DryRun;
use crate::error::ClusterError;
use crate::kinds::is_cluster_scoped;
use crate::object::{LiveObject, Object, ObjectRef, Workload};

/// The annotation on a workload that sets how the sandbox reports its rollout: `failed`,
/// `progressing` (forever) or `done` (the default).
pub const SANDBOX_ROLLOUT_ANNOTATION: &str = "kubernaut.io/sandbox-rollout";
/// The annotation on a workload whose value the sandbox gives as the reason of a `failed` or
/// `progressing` rollout.
pub const SANDBOX_MESSAGE_ANNOTATION: &str = "kubernaut.io/sandbox-message";

const DEFAULT_FAILED_MESSAGE: &str =
    "sandbox rollout failed as requested by the kubernaut.io/sandbox-rollout annotation";
const DEFAULT_PROGRESSING_MESSAGE: &str =
    "sandbox rollout progressing as requested by the kubernaut.io/sandbox-rollout annotation";

/// Where the sandbox keeps an object: namespace (empty for cluster-scoped kinds), kind, name.
type Key = (String, String, String);

/// An in-memory cluster: keeps what is applied and reports rollouts done, unless a workload's
/// [`SANDBOX_ROLLOUT_ANNOTATION`] says otherwise. See the crate documentation.
#[derive(Debug, Default)]
pub struct Sandbox {
    objects: Mutex<Objects>,
}

/// The stored objects, and which of them each ApplySet holds, so that listing a set's members
/// reads its members only, however many objects there are.
#[derive(Debug, Default)]
struct Objects {
    by_key: BTreeMap<Key, Value>,
    by_set: HashMap<String, BTreeSet<Key>>,
}

impl Objects {
    fn get(&self, key: &Key) -> Option<&Value> {
        self.by_key.get(key)
    }

    fn insert(&mut self, key: Key, body: Value) -> Option<Value> {
        self.unindex(&key);
        if let Some(set) = part_of(&body) {
            self.by_set.entry(set).or_default().insert(key.clone());
        }
        self.by_key.insert(key, body)
    }

    fn remove(&mut self, key: &Key) -> Option<Value> {
        self.unindex(key);
        self.by_key.remove(key)
    }

    /// The objects labelled part of ApplySet `id`.
    fn members(&self, id: &str) -> impl Iterator<Item = (&Key, &Value)> {
        self.by_set
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|key| self.by_key.get_key_value(key))
    }

    fn unindex(&mut self, key: &Key) {
        let Some(set) = self.by_key.get(key).and_then(part_of) else {
            return;
        };
        if let Some(keys) = self.by_set.get_mut(&set) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_set.remove(&set);
            }
        }
    }
}

/// The ApplySet an object's labels say it is part of.
fn part_of(body: &Value) -> Option<String> {
    body.pointer("/metadata/labels")?
        .get(APPLYSET_PART_OF_LABEL)?
        .as_str()
        .map(str::to_owned)
}

impl Sandbox {
    /// The object applied under `namespace`/`kind`/`name`, if any (namespace empty for
    /// cluster-scoped kinds), with `metadata.namespace` set as on a real cluster.
    pub fn object(&self, namespace: &str, kind: &str, name: &str) -> Option<Value> {
        self.objects()
            .get(&(namespace.to_owned(), kind.to_owned(), name.to_owned()))
            .cloned()
    }

    fn objects(&self) -> MutexGuard<'_, Objects> {
        // Every write replaces a whole entry, so a panicking holder cannot leave one half-made.
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `namespace`/`kind`/`name` is kept, and the namespace it has (none for
    /// cluster-scoped kinds).
    fn key<'a>(
        namespace: &'a str,
        api_version: &str,
        kind: &str,
        name: &str,
    ) -> (Key, Option<&'a str>) {
        let namespace = (!is_cluster_scoped(api_version, kind)).then_some(namespace);
        let key = (
            namespace.unwrap_or_default().to_owned(),
            kind.to_owned(),
            name.to_owned(),
        );
        (key, namespace)
    }
}

/// A stored object as the sandbox shows it: with the status its controller would report, as
/// [`Sandbox::rollout`] reports its rollout (see [`controller_status`]).
fn shown(body: &Value) -> Option<LiveObject> {
    let mut live = LiveObject::from_body(body.clone())?;
    if let Some(status) = controller_status(&live) {
        live.body["metadata"]["generation"] = json!(1);
        live.body["status"] = status;
    }
    Some(live)
}

/// The status a controller would give a workload whose rollout is as the sandbox reports it, so
/// that its [`health`](fn@crate::health) matches: rolled out when done; for a failed
/// Deployment, the `ProgressDeadlineExceeded` condition with the sandbox's message; otherwise
/// no replica updated (progressing). `None` for other kinds.
fn controller_status(live: &LiveObject) -> Option<Value> {
    if live.api_version != "apps/v1" {
        return None;
    }
    let replicas = live
        .body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let (rollout, message) = sandbox_rollout(&live.body);
    let done = matches!(rollout, Rollout::Done);
    let ready = if done { replicas } else { 0 };
    Some(match live.kind.as_str() {
        "Deployment" => {
            let progressing = match &rollout {
                Rollout::Done => json!({"type": "Progressing", "status": "True",
                                        "reason": "NewReplicaSetAvailable", "message": message}),
                Rollout::Failed(_) => json!({"type": "Progressing", "status": "False",
                                             "reason": "ProgressDeadlineExceeded",
                                             "message": message}),
                Rollout::Progressing(_) => json!({"type": "Progressing", "status": "True",
                                                  "reason": "ReplicaSetUpdated",
                                                  "message": message}),
            };
            json!({"observedGeneration": 1, "replicas": replicas, "updatedReplicas": ready,
                   "readyReplicas": ready, "availableReplicas": ready,
                   "conditions": [progressing]})
        }
        "StatefulSet" => json!({
            "observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
            "updatedReplicas": ready, "currentReplicas": ready,
            "currentRevision": format!("{}-sandbox", live.name),
            "updateRevision": format!("{}-sandbox", live.name)
        }),
        "DaemonSet" => json!({
            "observedGeneration": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
            "updatedNumberScheduled": i64::from(done), "numberAvailable": i64::from(done),
            "numberReady": i64::from(done), "numberMisscheduled": 0
        }),
        _ => return None,
    })
}

/// The rollout the sandbox reports for a workload's document, and the message of its
/// annotations (or the default), as the crate documentation tells.
fn sandbox_rollout(body: &Value) -> (Rollout, String) {
    let annotation = |name: &str| {
        body.pointer("/metadata/annotations")
            .and_then(|annotations| annotations.get(name))
            .and_then(Value::as_str)
    };
    let message = |default: &str| {
        annotation(SANDBOX_MESSAGE_ANNOTATION)
            .unwrap_or(default)
            .to_owned()
    };
    match annotation(SANDBOX_ROLLOUT_ANNOTATION) {
        None | Some("done") => (Rollout::Done, message("sandbox rollout done")),
        Some("failed") => {
            let message = message(DEFAULT_FAILED_MESSAGE);
            (Rollout::Failed(message.clone()), message)
        }
        Some("progressing") => {
            let message = message(DEFAULT_PROGRESSING_MESSAGE);
            (Rollout::Progressing(message.clone()), message)
        }
        Some(other) => {
            let message = format!(
                "the {SANDBOX_ROLLOUT_ANNOTATION} annotation must be failed, progressing or \
                 done, not {other:?}"
            );
            (Rollout::Failed(message.clone()), message)
        }
    }
}

#[async_trait::async_trait]
impl Cluster for Sandbox {
    async fn apply(&self, namespace: &str, object: &Object) -> Result<Applied, ClusterError> {
        let (key, namespace) =
            Self::key(namespace, &object.api_version, &object.kind, &object.name);
        let body = object.body_in(namespace)?;
        Ok(match self.objects().insert(key, body.clone()) {
            None => Applied::Created,
            Some(previous) if previous == body => Applied::Unchanged,
            Some(_) => Applied::Configured,
        })
    }

    async fn rollout(&self, namespace: &str, workload: &Workload) -> Result<Rollout, ClusterError> {
        let body = self
            .object(namespace, workload.kind.as_str(), &workload.name)
            .ok_or_else(|| ClusterError::Rejected {
                object: workload.to_string(),
                code: 404,
                reason: "NotFound".into(),
                message: format!(
                    "{}s.apps {:?} not found",
                    workload.kind.as_str().to_ascii_lowercase(),
                    workload.name
                ),
            })?;
        Ok(sandbox_rollout(&body).0)
    }

    /// The stored object; a workload with the status its rollout implies (see the crate
    /// documentation).
    async fn get(
        &self,
        namespace: &str,
        object: &ObjectRef,
    ) -> Result<Option<LiveObject>, ClusterError> {
        let (key, _) = Self::key(namespace, &object.api_version, &object.kind, &object.name);
        Ok(self.objects().get(&key).and_then(shown))
    }

    /// Compares the stored object with what [`apply`](Cluster::apply) would store, storing
    /// nothing.
    async fn dry_run(&self, namespace: &str, object: &Object) -> Result<DryRun, ClusterError> {
        let (key, namespace) =
            Self::key(namespace, &object.api_version, &object.kind, &object.name);
        let result = object.body_in(namespace)?;
        let live = self.objects().get(&key).cloned();
        Ok(DryRun::between(
            object.object_ref(),
            namespace.map(str::to_owned),
            live.as_ref(),
            &result,
        ))
    }

    /// The stored objects of `group_kinds` in `namespace` (cluster-scoped ones anywhere)
    /// labelled part of the set, by group-kind, then name.
    async fn members(
        &self,
        namespace: &str,
        applyset_id: &str,
        group_kinds: &BTreeSet<GroupKind>,
    ) -> Result<Vec<LiveObject>, ClusterError> {
        let objects = self.objects();
        let mut members: Vec<LiveObject> = objects
            .members(applyset_id)
            .filter(|((stored_in, _, _), _)| stored_in.is_empty() || stored_in == namespace)
            .filter_map(|(_, body)| shown(body))
            .filter(|live| group_kinds.contains(&live.group_kind()))
            .filter(|live| live.label(APPLYSET_PART_OF_LABEL) == Some(applyset_id))
            .collect();
        members.sort_by(|a, b| (a.group_kind(), &a.name).cmp(&(b.group_kind(), &b.name)));
        Ok(members)
    }

    async fn delete(&self, namespace: &str, object: &ObjectRef) -> Result<(), ClusterError> {
        let (key, _) = Self::key(namespace, &object.api_version, &object.kind, &object.name);
        self.objects().remove(&key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(annotations: Value, image: &str) -> Object {
        Object {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "hello".into(),
            body: json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "hello", "annotations": annotations},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
            }),
        }
    }

    fn hello() -> Workload {
        Workload {
            kind: crate::WorkloadKind::Deployment,
            name: "hello".into(),
        }
    }

    #[tokio::test]
    async fn apply_creates_then_configures_a_changed_body_and_leaves_an_identical_one()
    -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let v1 = deployment(json!({}), "nginx:1.27");
        assert_eq!(sandbox.apply("team", &v1).await?, Applied::Created);
        assert_eq!(sandbox.apply("team", &v1).await?, Applied::Unchanged);
        let v2 = deployment(json!({}), "nginx:1.28");
        assert_eq!(sandbox.apply("team", &v2).await?, Applied::Configured);
        assert_eq!(sandbox.apply("other", &v2).await?, Applied::Created);

        let stored = sandbox.object("team", "Deployment", "hello").unwrap();
        assert_eq!(stored["metadata"]["namespace"], "team");
        assert_eq!(
            stored["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.28"
        );
        assert_eq!(sandbox.object("team", "Service", "hello"), None);
        Ok(())
    }

    #[tokio::test]
    async fn cluster_scoped_objects_are_kept_without_a_namespace() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let namespace = Object {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            name: "team".into(),
            body: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        };
        assert_eq!(sandbox.apply("team", &namespace).await?, Applied::Created);
        assert_eq!(
            sandbox.object("", "Namespace", "team"),
            Some(namespace.body.clone())
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_mapping_is_refused() {
        let sandbox = Sandbox::default();
        let mut broken = deployment(json!({}), "nginx");
        broken.body = json!("hello");
        assert_eq!(
            sandbox
                .apply("team", &broken)
                .await
                .unwrap_err()
                .to_string(),
            "deployment.apps/hello cannot be applied: the document is not a mapping"
        );
    }

    #[tokio::test]
    async fn rollouts_are_done_by_default() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        sandbox
            .apply("team", &deployment(json!({}), "nginx"))
            .await?;
        assert_eq!(sandbox.rollout("team", &hello()).await?, Rollout::Done);
        let done = deployment(json!({SANDBOX_ROLLOUT_ANNOTATION: "done"}), "nginx");
        sandbox.apply("team", &done).await?;
        assert_eq!(sandbox.rollout("team", &hello()).await?, Rollout::Done);
        Ok(())
    }

    #[tokio::test]
    async fn the_failed_annotation_fails_with_the_message_annotation_or_a_default()
    -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let failed = deployment(json!({SANDBOX_ROLLOUT_ANNOTATION: "failed"}), "nginx");
        sandbox.apply("team", &failed).await?;
        assert_eq!(
            sandbox.rollout("team", &hello()).await?,
            Rollout::Failed(
                "sandbox rollout failed as requested by the kubernaut.io/sandbox-rollout \
                 annotation"
                    .into()
            )
        );
        let with_message = deployment(
            json!({
                SANDBOX_ROLLOUT_ANNOTATION: "failed",
                SANDBOX_MESSAGE_ANNOTATION: "pod hello-1 container app: ImagePullBackOff"
            }),
            "nginx",
        );
        sandbox.apply("team", &with_message).await?;
        assert_eq!(
            sandbox.rollout("team", &hello()).await?,
            Rollout::Failed("pod hello-1 container app: ImagePullBackOff".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_progressing_annotation_never_finishes() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let stuck = deployment(json!({SANDBOX_ROLLOUT_ANNOTATION: "progressing"}), "nginx");
        sandbox.apply("team", &stuck).await?;
        for _ in 0..3 {
            assert_eq!(
                sandbox.rollout("team", &hello()).await?,
                Rollout::Progressing(
                    "sandbox rollout progressing as requested by the \
                     kubernaut.io/sandbox-rollout annotation"
                        .into()
                )
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn an_unknown_annotation_value_fails_naming_it() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let typo = deployment(json!({SANDBOX_ROLLOUT_ANNOTATION: "faild"}), "nginx");
        sandbox.apply("team", &typo).await?;
        assert_eq!(
            sandbox.rollout("team", &hello()).await?,
            Rollout::Failed(
                "the kubernaut.io/sandbox-rollout annotation must be failed, progressing or \
                 done, not \"faild\""
                    .into()
            )
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_rollout_of_a_workload_never_applied_is_not_found() {
        let sandbox = Sandbox::default();
        assert_eq!(
            sandbox
                .rollout("team", &hello())
                .await
                .unwrap_err()
                .to_string(),
            "deployment.apps/hello was rejected by the API server (404 NotFound): \
             deployments.apps \"hello\" not found"
        );
    }

    fn object(body: Value) -> Object {
        Object {
            api_version: body["apiVersion"].as_str().unwrap().to_owned(),
            kind: body["kind"].as_str().unwrap().to_owned(),
            name: body["metadata"]["name"].as_str().unwrap().to_owned(),
            body,
        }
    }

    fn config_map(name: &str, labels: Value, data: Value) -> Object {
        object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels}, "data": data
        }))
    }

    fn names(objects: &[LiveObject]) -> Vec<String> {
        objects.iter().map(LiveObject::display_name).collect()
    }

    #[tokio::test]
    async fn members_are_the_objects_with_the_label_in_the_namespace() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let ours = json!({APPLYSET_PART_OF_LABEL: "applyset-a-v1"});
        sandbox
            .apply("team", &config_map("b", ours.clone(), json!({})))
            .await?;
        sandbox
            .apply("team", &config_map("a", ours.clone(), json!({})))
            .await?;
        sandbox
            .apply("other", &config_map("c", ours.clone(), json!({})))
            .await?;
        sandbox
            .apply("team", &config_map("d", json!({"app": "web"}), json!({})))
            .await?;
        sandbox
            .apply(
                "team",
                &config_map(
                    "e",
                    json!({APPLYSET_PART_OF_LABEL: "applyset-b-v1"}),
                    json!({}),
                ),
            )
            .await?;
        let mut role = object(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "reader", "labels": ours.clone()}, "rules": []
        }));
        sandbox.apply("team", &role).await?;
        let mut hello = deployment(json!({}), "nginx");
        hello
            .set_label(APPLYSET_PART_OF_LABEL, "applyset-a-v1")
            .unwrap();
        sandbox.apply("team", &hello).await?;

        let kinds = BTreeSet::from([
            GroupKind::of("v1", "ConfigMap"),
            GroupKind::of("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ]);
        let members = sandbox.members("team", "applyset-a-v1", &kinds).await?;
        assert_eq!(
            names(&members),
            [
                "clusterrole.rbac.authorization.k8s.io/reader",
                "configmap/a",
                "configmap/b"
            ]
        );
        assert_eq!(members[0].namespace, None);
        assert_eq!(members[1].namespace.as_deref(), Some("team"));
        assert_eq!(
            members[1].label("applyset.kubernetes.io/part-of"),
            Some("applyset-a-v1")
        );

        role.body["metadata"]["labels"] = json!({});
        sandbox.apply("team", &role).await?;
        let all = BTreeSet::from([
            GroupKind::of("v1", "ConfigMap"),
            GroupKind::of("rbac.authorization.k8s.io/v1", "ClusterRole"),
            GroupKind::of("apps/v1", "Deployment"),
        ]);
        assert_eq!(
            names(&sandbox.members("team", "applyset-a-v1", &all).await?),
            ["configmap/a", "configmap/b", "deployment.apps/hello"]
        );

        // Deleted, or moved to another set: no longer a member.
        let b = ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "b".into(),
        };
        sandbox.delete("team", &b).await?;
        let moved = json!({APPLYSET_PART_OF_LABEL: "applyset-b-v1"});
        sandbox
            .apply("team", &config_map("a", moved, json!({})))
            .await?;
        assert_eq!(
            names(&sandbox.members("team", "applyset-a-v1", &all).await?),
            ["deployment.apps/hello"]
        );
        assert_eq!(
            names(&sandbox.members("team", "applyset-b-v1", &all).await?),
            ["configmap/a", "configmap/e"]
        );
        Ok(())
    }

    #[tokio::test]
    async fn delete_removes_and_a_missing_object_is_fine() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let cfg = config_map("cfg", json!({}), json!({}));
        sandbox.apply("team", &cfg).await?;
        assert!(sandbox.get("team", &cfg.object_ref()).await?.is_some());
        sandbox.delete("team", &cfg.object_ref()).await?;
        assert_eq!(sandbox.get("team", &cfg.object_ref()).await?, None);
        assert_eq!(sandbox.object("team", "ConfigMap", "cfg"), None);
        sandbox.delete("team", &cfg.object_ref()).await?;
        Ok(())
    }

    #[tokio::test]
    async fn a_dry_run_compares_with_what_is_kept_and_changes_nothing() -> Result<(), ClusterError>
    {
        let sandbox = Sandbox::default();
        let v1 = config_map("cfg", json!({}), json!({"greeting": "hello"}));
        let created = sandbox.dry_run("team", &v1).await?;
        assert_eq!(created.action, crate::DryRunAction::Create);
        assert_eq!(created.namespace.as_deref(), Some("team"));
        assert!(
            created.diff.contains("+  greeting: hello\n"),
            "{}",
            created.diff
        );
        assert_eq!(sandbox.object("team", "ConfigMap", "cfg"), None);

        sandbox.apply("team", &v1).await?;
        let unchanged = sandbox.dry_run("team", &v1).await?;
        assert_eq!(unchanged.action, crate::DryRunAction::Unchanged);
        assert_eq!(unchanged.diff, "");

        let v2 = config_map("cfg", json!({}), json!({"greeting": "bonjour"}));
        let configured = sandbox.dry_run("team", &v2).await?;
        assert_eq!(configured.action, crate::DryRunAction::Configure);
        assert!(
            configured
                .diff
                .contains("-  greeting: hello\n+  greeting: bonjour\n"),
            "{}",
            configured.diff
        );
        assert_eq!(
            sandbox.object("team", "ConfigMap", "cfg").unwrap()["data"]["greeting"],
            "hello"
        );
        Ok(())
    }

    #[tokio::test]
    async fn workloads_show_the_status_of_their_sandbox_rollout() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let health = |live: Option<LiveObject>| live.unwrap().health();
        sandbox
            .apply("team", &deployment(json!({}), "nginx"))
            .await?;
        let hello = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "hello".into(),
        };
        assert_eq!(
            health(sandbox.get("team", &hello).await?),
            (
                kubernaut_domain::Health::Healthy,
                "deployment \"hello\" successfully rolled out".into()
            )
        );
        let failed = deployment(
            json!({SANDBOX_ROLLOUT_ANNOTATION: "failed", SANDBOX_MESSAGE_ANNOTATION: "no luck"}),
            "nginx",
        );
        sandbox.apply("team", &failed).await?;
        assert_eq!(
            health(sandbox.get("team", &hello).await?),
            (
                kubernaut_domain::Health::Degraded,
                "deployment \"hello\" exceeded its progress deadline: no luck".into()
            )
        );
        let stuck = deployment(json!({SANDBOX_ROLLOUT_ANNOTATION: "progressing"}), "nginx");
        sandbox.apply("team", &stuck).await?;
        assert_eq!(
            health(sandbox.get("team", &hello).await?).0,
            kubernaut_domain::Health::Progressing
        );
        // What it keeps is what was applied: the status is only shown.
        assert_eq!(
            sandbox
                .object("team", "Deployment", "hello")
                .unwrap()
                .get("status"),
            None
        );
        for (kind, rollout, shown) in [
            ("StatefulSet", "done", kubernaut_domain::Health::Healthy),
            (
                "StatefulSet",
                "failed",
                kubernaut_domain::Health::Progressing,
            ),
            ("DaemonSet", "done", kubernaut_domain::Health::Healthy),
            (
                "DaemonSet",
                "progressing",
                kubernaut_domain::Health::Progressing,
            ),
        ] {
            let workload = object(json!({
                "apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": "w", "annotations": {SANDBOX_ROLLOUT_ANNOTATION: rollout}},
                "spec": {"replicas": 2}
            }));
            sandbox.apply("team", &workload).await?;
            assert_eq!(
                health(sandbox.get("team", &workload.object_ref()).await?).0,
                shown,
                "{kind} {rollout}"
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn an_applyset_deployment_prunes_dropped_members_only() -> Result<(), ClusterError> {
        let sandbox = Sandbox::default();
        let cluster: &dyn Cluster = &sandbox;
        let set = &crate::ApplySet::with_parent("kubernaut-web", "team");
        let deploy = |mut objects: Vec<Object>| async move {
            let kinds = set.prepare(cluster, &mut objects).await?;
            for object in &objects {
                cluster.apply(set.namespace(), object).await?;
            }
            let mut pruned = Vec::new();
            for member in set.prunable_members(cluster, &kinds, &objects).await? {
                cluster
                    .delete(set.namespace(), &member.object_ref())
                    .await?;
                pruned.push(member.display_name());
            }
            set.commit(cluster, &objects).await?;
            Ok::<_, ClusterError>(pruned)
        };
        let cfg = || config_map("web-config", json!({}), json!({"greeting": "hello"}));
        let web = || deployment(json!({}), "nginx");
        assert!(deploy(vec![cfg(), web()]).await?.is_empty());

        let parent = sandbox.object("team", "Secret", "kubernaut-web").unwrap();
        assert_eq!(
            parent["metadata"]["labels"],
            json!({"applyset.kubernetes.io/id": set.id()})
        );
        assert_eq!(
            parent["metadata"]["annotations"],
            json!({
                "applyset.kubernetes.io/tooling": "kubernaut/v1",
                "applyset.kubernetes.io/contains-group-kinds": "ConfigMap,Deployment.apps",
                "applyset.kubernetes.io/additional-namespaces": ""
            })
        );
        // Same names, not members: a Secret named like the ConfigMap, and a ConfigMap of
        // another namespace.
        sandbox
            .apply(
                "team",
                &object(json!({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": "web-config"}})),
            )
            .await?;
        sandbox
            .apply("other", &config_map("web-config", json!({}), json!({})))
            .await?;
        // An unlabelled object of a listed kind, whatever its name, is never pruned.
        sandbox
            .apply("team", &config_map("web-legacy", json!({}), json!({})))
            .await?;

        let dry_run = set.dry_run(cluster, &[web()]).await?;
        let actions: Vec<_> = dry_run
            .iter()
            .map(|d| (d.object.display_name(), d.action.to_string()))
            .collect();
        assert_eq!(
            actions,
            [
                ("deployment.apps/hello".to_owned(), "unchanged".to_owned()),
                ("configmap/web-config".to_owned(), "prune".to_owned())
            ]
        );
        assert!(sandbox.object("team", "ConfigMap", "web-config").is_some());

        assert_eq!(deploy(vec![web()]).await?, ["configmap/web-config"]);
        assert_eq!(sandbox.object("team", "ConfigMap", "web-config"), None);
        assert!(sandbox.object("team", "Secret", "web-config").is_some());
        assert!(sandbox.object("other", "ConfigMap", "web-config").is_some());
        assert!(sandbox.object("team", "ConfigMap", "web-legacy").is_some());
        let parent = sandbox.object("team", "Secret", "kubernaut-web").unwrap();
        assert_eq!(
            parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
            "Deployment.apps"
        );
        let live = set.live(cluster).await?;
        assert_eq!(names(&live), ["deployment.apps/hello"]);
        assert_eq!(live[0].health().0, kubernaut_domain::Health::Healthy);
        Ok(())
    }
}
