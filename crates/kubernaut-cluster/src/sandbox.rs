use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use kubernaut_domain::Rollout;
use serde_json::Value;

use crate::cluster::{Applied, Cluster};
use crate::error::ClusterError;
use crate::kinds::is_cluster_scoped;
use crate::object::{Object, Workload};

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
    objects: Mutex<BTreeMap<Key, Value>>,
}

impl Sandbox {
    /// The object applied under `namespace`/`kind`/`name`, if any (namespace empty for
    /// cluster-scoped kinds), with `metadata.namespace` set as on a real cluster.
    pub fn object(&self, namespace: &str, kind: &str, name: &str) -> Option<Value> {
        self.objects()
            .get(&(namespace.to_owned(), kind.to_owned(), name.to_owned()))
            .cloned()
    }

    fn objects(&self) -> MutexGuard<'_, BTreeMap<Key, Value>> {
        // Every write replaces a whole entry, so a panicking holder cannot leave one half-made.
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl Cluster for Sandbox {
    async fn apply(&self, namespace: &str, object: &Object) -> Result<Applied, ClusterError> {
        let namespace = if is_cluster_scoped(&object.api_version, &object.kind) {
            None
        } else {
            Some(namespace)
        };
        let body = object.body_in(namespace)?;
        let key = (
            namespace.unwrap_or_default().to_owned(),
            object.kind.clone(),
            object.name.clone(),
        );
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
        Ok(match annotation(SANDBOX_ROLLOUT_ANNOTATION) {
            None | Some("done") => Rollout::Done,
            Some("failed") => Rollout::Failed(message(DEFAULT_FAILED_MESSAGE)),
            Some("progressing") => Rollout::Progressing(message(DEFAULT_PROGRESSING_MESSAGE)),
            Some(other) => Rollout::Failed(format!(
                "the {SANDBOX_ROLLOUT_ANNOTATION} annotation must be failed, progressing or done, \
                 not {other:?}"
            )),
        })
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
}
