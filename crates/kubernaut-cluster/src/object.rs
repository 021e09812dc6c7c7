use std::fmt;

use kubernaut_domain::{APPLYSET_PART_OF_LABEL, GroupKind, MemberKey, SetMember};
use serde_json::{Map, Value};

use crate::error::ClusterError;
use crate::health::health;

/// kubectl-style display name: lower-case kind, ".group" when the apiVersion has a group,
/// "/name": `deployment.apps/hello`, `service/hello`.
fn display_name(api_version: &str, kind: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    match group(api_version) {
        "" => format!("{kind}/{name}"),
        group => format!("{kind}.{group}/{name}"),
    }
}

/// One manifest document to apply, already rendered and checked by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `apiVersion`, e.g. `apps/v1` or `v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The whole document.
    pub body: Value,
}

impl Object {
    /// kubectl-style display name: lower-case kind, ".group" when the apiVersion has a group,
    /// "/name": `deployment.apps/hello`, `service/hello`, `configmap/cfg`.
    pub fn display_name(&self) -> String {
        display_name(&self.api_version, &self.kind, &self.name)
    }

    /// What names this object in a namespace: apiVersion, kind and name.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
        }
    }

    /// Its group-kind: `Deployment.apps`.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::of(&self.api_version, &self.kind)
    }

    /// The value of its label `key` (`metadata.labels`), if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.body
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(key))
            .and_then(Value::as_str)
    }

    /// The workload to watch if this object is a Deployment, StatefulSet or DaemonSet
    /// (`apps/v1`).
    pub fn workload(&self) -> Option<Workload> {
        if self.api_version != "apps/v1" {
            return None;
        }
        let kind = match self.kind.as_str() {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            _ => return None,
        };
        Some(Workload {
            kind,
            name: self.name.clone(),
        })
    }
}

impl Object {
    /// The body to send: a copy with `metadata.namespace` set to `namespace`, when given (for
    /// namespaced kinds).
    pub(crate) fn body_in(&self, namespace: Option<&str>) -> Result<Value, ClusterError> {
        let mut body = self.body.clone();
        let metadata = body
            .as_object_mut()
            .ok_or_else(|| self.invalid("the document is not a mapping"))?
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| self.invalid("metadata is not a mapping"))?;
        if let Some(namespace) = namespace {
            metadata.insert("namespace".into(), Value::String(namespace.into()));
        }
        Ok(body)
    }

    /// Sets the label `key` to `value` in `metadata.labels`, creating the maps as needed.
    pub(crate) fn set_label(&mut self, key: &str, value: &str) -> Result<(), ClusterError> {
        let labels = self
            .body
            .as_object_mut()
            .ok_or("the document is not a mapping")
            .and_then(|document| {
                document
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .ok_or("metadata is not a mapping")
            })
            .and_then(|metadata| {
                let labels = metadata
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Map::new()));
                if labels.is_null() {
                    *labels = Value::Object(Map::new());
                }
                labels
                    .as_object_mut()
                    .ok_or("metadata.labels is not a mapping")
            });
        match labels {
            Ok(labels) => {
                labels.insert(key.to_owned(), Value::String(value.to_owned()));
                Ok(())
            }
            Err(reason) => Err(self.invalid(reason)),
        }
    }

    pub(crate) fn invalid(&self, reason: &str) -> ClusterError {
        ClusterError::InvalidObject {
            object: self.display_name(),
            reason: reason.into(),
        }
    }
}

/// What names an object in a namespace (or in the cluster, for cluster-scoped kinds): its
/// apiVersion, kind and name. Displays as kubectl does: `deployment.apps/hello`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// kubectl-style display name, as [`Object::display_name`].
    pub fn display_name(&self) -> String {
        display_name(&self.api_version, &self.kind, &self.name)
    }

    /// Its group-kind: `Deployment.apps`.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::of(&self.api_version, &self.kind)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// An object as a cluster has it now: the whole document, metadata and status included.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    /// `apiVersion` it was read in, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// The whole document, as the API server answered it.
    pub body: Value,
}

impl LiveObject {
    /// The live object of a document read from a cluster; `None` unless it has `apiVersion`,
    /// `kind` and `metadata.name`.
    pub fn from_body(body: Value) -> Option<Self> {
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Self {
            api_version: text("/apiVersion")?,
            kind: text("/kind")?,
            name: text("/metadata/name")?,
            namespace: text("/metadata/namespace").filter(|ns| !ns.is_empty()),
            body,
        })
    }

    /// kubectl-style display name, as [`Object::display_name`]: `deployment.apps/hello`.
    pub fn display_name(&self) -> String {
        display_name(&self.api_version, &self.kind, &self.name)
    }

    /// What names it: apiVersion, kind and name, e.g. to [`delete`](crate::Cluster::delete) it.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
        }
    }

    /// Its group-kind: `Deployment.apps`.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::of(&self.api_version, &self.kind)
    }

    /// The value of its label `key`, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.body
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(key))
            .and_then(Value::as_str)
    }

    /// The value of its annotation `key`, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.body
            .pointer("/metadata/annotations")
            .and_then(|annotations| annotations.get(key))
            .and_then(Value::as_str)
    }

    /// How it is doing, with a message: see [`health`](fn@crate::health).
    pub fn health(&self) -> (kubernaut_domain::Health, String) {
        health(self)
    }
}

impl SetMember for LiveObject {
    fn key(&self) -> MemberKey {
        MemberKey {
            group_kind: self.group_kind(),
            name: self.name.clone(),
        }
    }

    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    fn part_of(&self) -> Option<&str> {
        self.label(APPLYSET_PART_OF_LABEL)
    }
}

/// The group of an apiVersion: `apps` for `apps/v1`, empty for the core `v1`.
pub(crate) fn group(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group)
}

/// The version of an apiVersion: `v1` for `apps/v1` and for `v1`.
pub(crate) fn version(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or(api_version, |(_group, version)| version)
}

/// The kinds of workload whose rollout kubernaut watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// The kind as the API spells it: `Deployment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
        }
    }
}

/// A workload to watch the rollout of. Displays as `deployment.apps/hello`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Workload {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its `metadata.name`.
    pub name: String,
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.as_str().to_ascii_lowercase();
        write!(f, "{kind}.apps/{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str, name: &str) -> Object {
        Object {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            body: Value::Null,
        }
    }

    #[test]
    fn display_names_follow_kubectl() {
        for (api_version, kind, name, shown) in [
            ("apps/v1", "Deployment", "hello", "deployment.apps/hello"),
            ("v1", "Service", "hello", "service/hello"),
            ("v1", "ConfigMap", "cfg", "configmap/cfg"),
            (
                "networking.k8s.io/v1",
                "Ingress",
                "web",
                "ingress.networking.k8s.io/web",
            ),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "web",
                "horizontalpodautoscaler.autoscaling/web",
            ),
        ] {
            assert_eq!(object(api_version, kind, name).display_name(), shown);
        }
    }

    #[test]
    fn apps_v1_deployments_stateful_sets_and_daemon_sets_are_workloads() {
        for (kind, workload_kind, shown) in [
            ("Deployment", WorkloadKind::Deployment, "deployment.apps/w"),
            (
                "StatefulSet",
                WorkloadKind::StatefulSet,
                "statefulset.apps/w",
            ),
            ("DaemonSet", WorkloadKind::DaemonSet, "daemonset.apps/w"),
        ] {
            let workload = object("apps/v1", kind, "w").workload().unwrap();
            assert_eq!(workload.kind, workload_kind);
            assert_eq!(workload.name, "w");
            assert_eq!(workload.to_string(), shown);
        }
        assert_eq!(object("apps/v1", "ReplicaSet", "w").workload(), None);
        assert_eq!(object("v1", "Service", "w").workload(), None);
        assert_eq!(object("apps/v1beta1", "Deployment", "w").workload(), None);
    }

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!((group("apps/v1"), version("apps/v1")), ("apps", "v1"));
        assert_eq!((group("v1"), version("v1")), ("", "v1"));
        assert_eq!(
            (
                group("networking.k8s.io/v1"),
                version("networking.k8s.io/v1")
            ),
            ("networking.k8s.io", "v1")
        );
    }

    #[test]
    fn the_body_gets_the_namespace_and_must_be_a_mapping() -> Result<(), ClusterError> {
        let mut cfg = object("v1", "ConfigMap", "cfg");
        cfg.body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}});
        assert_eq!(
            cfg.body_in(Some("team"))?["metadata"],
            serde_json::json!({"name": "cfg", "namespace": "team"})
        );
        assert_eq!(cfg.body_in(None)?, cfg.body);

        cfg.body = serde_json::json!(["not", "a", "mapping"]);
        assert_eq!(
            cfg.body_in(None).unwrap_err().to_string(),
            "configmap/cfg cannot be applied: the document is not a mapping"
        );
        cfg.body = serde_json::json!({"metadata": "cfg"});
        assert_eq!(
            cfg.body_in(None).unwrap_err().to_string(),
            "configmap/cfg cannot be applied: metadata is not a mapping"
        );
        Ok(())
    }
}
