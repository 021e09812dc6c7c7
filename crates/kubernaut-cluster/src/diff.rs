//! Dry runs: what applying an object would do, told as `create`, `configure`, `unchanged` or
//! `prune`, with the unified diff of the live object and the result.

use std::fmt;

use serde_json::Value;
use similar::TextDiff;

use crate::object::{LiveObject, ObjectRef};

/// The annotation in which `kubectl apply` (client-side) keeps what it applied last: a copy of
/// the object, secrets included, that says nothing a diff should show.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The metadata the API server owns: never part of a diff.
const SERVER_METADATA: [&str; 5] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
];
/// How `kubectl diff` masks the values of a Secret.
const MASK: &str = "***";
const MASK_BEFORE: &str = "*** (before)";
const MASK_AFTER: &str = "*** (after)";
/// Lines of context around each change, as `diff -u`.
const CONTEXT_LINES: usize = 3;

/// What a dry run says would happen to an object. Displays as the API writes it: `create`,
/// `configure`, `unchanged`, `prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DryRunAction {
    /// The object does not exist: applying would create it.
    Create,
    /// The object exists and applying would change it.
    Configure,
    /// The object exists and applying would leave it as it is (server-owned metadata and status
    /// aside).
    Unchanged,
    /// The object is a member of the service's ApplySet that the manifest no longer holds: a
    /// prune after the rollout would delete it.
    Prune,
}

impl DryRunAction {
    /// As the API writes it: `create`, `configure`, `unchanged`, `prune`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Configure => "configure",
            Self::Unchanged => "unchanged",
            Self::Prune => "prune",
        }
    }
}

impl fmt::Display for DryRunAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What applying (or pruning) one object would do, and the unified diff of the object as it is
/// and as it would be.
///
/// The diff compares both as YAML (keys sorted) without the metadata the API server owns
/// (`managedFields`, `resourceVersion`, `generation`, `uid`, `creationTimestamp`), without the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation and without `status`. The
/// values of a `v1` Secret's `data` and `stringData` are masked as `kubectl diff` masks them:
/// `***`, or `*** (before)` and `*** (after)` where a value changes. Its headers name the
/// object as kubectl's do, `--- live/apps.v1.Deployment.team.hello` and
/// `+++ merged/apps.v1.Deployment.team.hello`; it is empty when the action is
/// [`DryRunAction::Unchanged`]. A created object is diffed against nothing, a pruned one with
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    /// The object.
    pub object: ObjectRef,
    /// The namespace it is (or would be) in; `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// What would happen to it.
    pub action: DryRunAction,
    /// The unified diff of the live object and the result (empty when unchanged).
    pub diff: String,
}

impl DryRun {
    /// The dry run of applying `object` in `namespace`, from the live object (`None` when
    /// absent) and the result the API server answered (or would store): `Create` without a live
    /// object, else `Unchanged` when both are equal once cleaned as described on [`DryRun`],
    /// else `Configure`.
    pub fn between(
        object: ObjectRef,
        namespace: Option<String>,
        live: Option<&Value>,
        result: &Value,
    ) -> Self {
        let live = live.map(clean);
        let result = clean(result);
        let action = match &live {
            None => DryRunAction::Create,
            Some(live) if *live == result => DryRunAction::Unchanged,
            Some(_) => DryRunAction::Configure,
        };
        let diff = if action == DryRunAction::Unchanged {
            String::new()
        } else {
            diff(&object, namespace.as_deref(), live, Some(result))
        };
        Self {
            object,
            namespace,
            action,
            diff,
        }
    }

    /// The dry run of pruning the live member `live`: [`DryRunAction::Prune`], the diff removing
    /// every line of it.
    pub fn prune(live: &LiveObject) -> Self {
        let object = live.object_ref();
        let diff = diff(
            &object,
            live.namespace.as_deref(),
            Some(clean(&live.body)),
            None,
        );
        Self {
            object,
            namespace: live.namespace.clone(),
            action: DryRunAction::Prune,
            diff,
        }
    }
}

/// A copy without what the API server owns: see [`DryRun`].
pub(crate) fn clean(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(document) = object.as_object_mut() {
        document.remove("status");
        if let Some(metadata) = document.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                metadata.remove(key);
            }
            let annotations = metadata
                .get_mut("annotations")
                .and_then(Value::as_object_mut);
            if let Some(annotations) = annotations {
                annotations.remove(LAST_APPLIED);
                if annotations.is_empty() {
                    metadata.remove("annotations");
                }
            }
        }
    }
    object
}

fn is_secret(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Masks the values of a Secret's `field` as `kubectl diff` does: a key on both sides with
/// different values becomes `*** (before)` / `*** (after)`, every other value `***`.
fn mask(live: &mut Option<Value>, result: &mut Option<Value>, field: &str) {
    let before = live
        .as_ref()
        .and_then(|o| o.get(field))
        .and_then(Value::as_object)
        .cloned();
    let after = result
        .as_ref()
        .and_then(|o| o.get(field))
        .and_then(Value::as_object)
        .cloned();
    let masked = |own: &serde_json::Map<String, Value>,
                  other: Option<&serde_json::Map<String, Value>>,
                  changed: &str| {
        own.iter()
            .map(|(key, value)| {
                let text = match other.and_then(|o| o.get(key)) {
                    Some(theirs) if theirs != value => changed,
                    _ => MASK,
                };
                (key.clone(), Value::String(text.to_owned()))
            })
            .collect::<serde_json::Map<_, _>>()
    };
    if let (Some(object), Some(values)) = (live.as_mut(), before.as_ref()) {
        object[field] = Value::Object(masked(values, after.as_ref(), MASK_BEFORE));
    }
    if let (Some(object), Some(values)) = (result.as_mut(), after.as_ref()) {
        object[field] = Value::Object(masked(values, before.as_ref(), MASK_AFTER));
    }
}

fn yaml(object: Option<&Value>) -> String {
    // Serializing a JSON value as YAML cannot fail: its keys are strings.
    object
        .map(|o| serde_yaml_ng::to_string(o).unwrap_or_default())
        .unwrap_or_default()
}

/// The file name kubectl diff gives an object: `apps.v1.Deployment.team.hello`.
fn path(object: &ObjectRef, namespace: Option<&str>) -> String {
    let mut path = format!("{}.{}", object.api_version.replace('/', "."), object.kind);
    if let Some(namespace) = namespace {
        path.push('.');
        path.push_str(namespace);
    }
    path.push('.');
    path.push_str(&object.name);
    path
}

fn diff(
    object: &ObjectRef,
    namespace: Option<&str>,
    mut live: Option<Value>,
    mut result: Option<Value>,
) -> String {
    if live.iter().chain(&result).any(is_secret) {
        mask(&mut live, &mut result, "data");
        mask(&mut live, &mut result, "stringData");
    }
    let before = yaml(live.as_ref());
    let after = yaml(result.as_ref());
    let path = path(object, namespace);
    TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("live/{path}"), &format!("merged/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reference(api_version: &str, kind: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn config_map(value: &str, server: bool) -> Value {
        let mut object = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "team", "labels": {"app": "web"}},
            "data": {"greeting": value, "colour": "blue"}
        });
        if server {
            object["metadata"]["uid"] = json!("0f4c");
            object["metadata"]["resourceVersion"] = json!("42");
            object["metadata"]["generation"] = json!(3);
            object["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            object["metadata"]["managedFields"] =
                json!([{"manager": "kubernaut", "operation": "Apply"}]);
            object["metadata"]["annotations"] =
                json!({LAST_APPLIED: "{\"data\":{\"password\":\"hunter2\"}}"});
            object["status"] = json!({"observed": true});
        }
        object
    }

    #[test]
    fn actions_display_as_the_api_writes_them() {
        for (action, shown) in [
            (DryRunAction::Create, "create"),
            (DryRunAction::Configure, "configure"),
            (DryRunAction::Unchanged, "unchanged"),
            (DryRunAction::Prune, "prune"),
        ] {
            assert_eq!(action.to_string(), shown);
        }
    }

    #[test]
    fn an_absent_object_is_created_and_its_diff_adds_every_line() {
        let dry_run = DryRun::between(
            reference("v1", "ConfigMap", "cfg"),
            Some("team".into()),
            None,
            &config_map("hello", true),
        );
        assert_eq!(dry_run.action, DryRunAction::Create);
        assert_eq!(
            dry_run.diff,
            "--- live/v1.ConfigMap.team.cfg\n\
             +++ merged/v1.ConfigMap.team.cfg\n\
             @@ -0,0 +1,10 @@\n\
             +apiVersion: v1\n\
             +data:\n\
             +  colour: blue\n\
             +  greeting: hello\n\
             +kind: ConfigMap\n\
             +metadata:\n\
             +  labels:\n\
             +    app: web\n\
             +  name: cfg\n\
             +  namespace: team\n"
        );
    }

    #[test]
    fn server_owned_metadata_status_and_last_applied_make_no_difference() {
        let dry_run = DryRun::between(
            reference("v1", "ConfigMap", "cfg"),
            Some("team".into()),
            Some(&config_map("hello", true)),
            &config_map("hello", false),
        );
        assert_eq!(dry_run.action, DryRunAction::Unchanged);
        assert_eq!(dry_run.diff, "");
    }

    #[test]
    fn a_change_is_configured_with_a_unified_diff_of_the_changed_lines() {
        let dry_run = DryRun::between(
            reference("v1", "ConfigMap", "cfg"),
            Some("team".into()),
            Some(&config_map("hello", true)),
            &config_map("bonjour", true),
        );
        assert_eq!(dry_run.action, DryRunAction::Configure);
        assert_eq!(
            dry_run.diff,
            "--- live/v1.ConfigMap.team.cfg\n\
             +++ merged/v1.ConfigMap.team.cfg\n\
             @@ -1,7 +1,7 @@\n \
             apiVersion: v1\n \
             data:\n   \
             colour: blue\n\
             -  greeting: hello\n\
             +  greeting: bonjour\n \
             kind: ConfigMap\n \
             metadata:\n   \
             labels:\n"
        );
        assert!(!dry_run.diff.contains("hunter2"), "{}", dry_run.diff);
        assert!(!dry_run.diff.contains("managedFields"), "{}", dry_run.diff);
    }

    #[test]
    fn a_cluster_scoped_object_is_named_without_a_namespace() {
        let role = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "reader"}, "rules": []
        });
        let dry_run = DryRun::between(
            reference("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
            None,
            None,
            &role,
        );
        assert!(
            dry_run.diff.starts_with(
                "--- live/rbac.authorization.k8s.io.v1.ClusterRole.reader\n\
                 +++ merged/rbac.authorization.k8s.io.v1.ClusterRole.reader\n"
            ),
            "{}",
            dry_run.diff
        );
    }

    #[test]
    fn secret_values_are_masked_changed_ones_told_apart() {
        let secret = |password: &str, token: Option<&str>| {
            let mut data = json!({"password": password, "user": "YWRtaW4="});
            if let Some(token) = token {
                data["token"] = json!(token);
            }
            json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "creds", "namespace": "team"},
                "data": data
            })
        };
        let dry_run = DryRun::between(
            reference("v1", "Secret", "creds"),
            Some("team".into()),
            Some(&secret("aHVudGVyMg==", None)),
            &secret("Y29ycmVjdA==", Some("dG9rZW4=")),
        );
        assert_eq!(dry_run.action, DryRunAction::Configure);
        assert_eq!(
            dry_run.diff,
            "--- live/v1.Secret.team.creds\n\
             +++ merged/v1.Secret.team.creds\n\
             @@ -1,6 +1,7 @@\n \
             apiVersion: v1\n \
             data:\n\
             -  password: '*** (before)'\n\
             +  password: '*** (after)'\n\
             +  token: '***'\n   \
             user: '***'\n \
             kind: Secret\n \
             metadata:\n"
        );
        for secret_text in ["aHVudGVyMg==", "Y29ycmVjdA==", "dG9rZW4=", "YWRtaW4="] {
            assert!(!dry_run.diff.contains(secret_text), "{}", dry_run.diff);
        }
        let unchanged = DryRun::between(
            reference("v1", "Secret", "creds"),
            Some("team".into()),
            Some(&secret("aHVudGVyMg==", None)),
            &secret("aHVudGVyMg==", None),
        );
        assert_eq!(unchanged.action, DryRunAction::Unchanged);
    }

    #[test]
    fn a_pruned_member_is_diffed_with_nothing() {
        let live = LiveObject::from_body(config_map("hello", true)).unwrap();
        let dry_run = DryRun::prune(&live);
        assert_eq!(dry_run.action, DryRunAction::Prune);
        assert_eq!(dry_run.namespace.as_deref(), Some("team"));
        assert_eq!(dry_run.object, reference("v1", "ConfigMap", "cfg"));
        assert!(
            dry_run.diff.starts_with(
                "--- live/v1.ConfigMap.team.cfg\n\
                 +++ merged/v1.ConfigMap.team.cfg\n\
                 @@ -1,10 +0,0 @@\n\
                 -apiVersion: v1\n"
            ),
            "{}",
            dry_run.diff
        );
        assert!(dry_run.diff.lines().skip(3).all(|l| l.starts_with('-')));
    }
}
