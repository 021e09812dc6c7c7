use std::fmt;

use serde_json::{Map, Value};

use crate::error::ClusterError;

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
        let kind = self.kind.to_ascii_lowercase();
        match group(&self.api_version) {
            "" => format!("{kind}/{}", self.name),
            group => format!("{kind}.{group}/{}", self.name),
        }
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

    fn invalid(&self, reason: &str) -> ClusterError {
        ClusterError::InvalidObject {
            object: self.display_name(),
            reason: reason.into(),
        }
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
