use crate::object::{Object, group};

/// Where an object goes in the apply order.
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace"
        | "CustomResourceDefinition"
        | "StorageClass"
        | "PriorityClass"
        | "RuntimeClass"
        | "IngressClass"
        | "PersistentVolume"
        | "ClusterRole"
        | "ClusterRoleBinding" => 0,
        "NetworkPolicy"
        | "ResourceQuota"
        | "LimitRange"
        | "ServiceAccount"
        | "Secret"
        | "ConfigMap"
        | "PersistentVolumeClaim"
        | "Role"
        | "RoleBinding" => 1,
        "Service" => 2,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Pod"
        | "Job"
        | "CronJob" => 3,
        _ => 4,
    }
}

/// Orders objects for applying, stable within a rank: cluster-level definitions first
/// (Namespace, CRD, StorageClass, ClusterRole, ...), then configuration and access
/// (ConfigMap, Secret, ServiceAccount, Role, RoleBinding, PersistentVolumeClaim, ...), then
/// Services, then workloads (Deployment, StatefulSet, DaemonSet, Job, ...), then the rest
/// (Ingress, HorizontalPodAutoscaler, PodDisruptionBudget, custom resources, ...).
///
/// Takes a slice, so `apply_order(&mut vec)` works on a `Vec<Object>`.
pub fn apply_order(objects: &mut [Object]) {
    objects.sort_by_key(|object| rank(&object.kind));
}

/// Whether a kind is cluster-scoped, by apiVersion group and kind (Namespace, Node,
/// PersistentVolume, ClusterRole, ClusterRoleBinding, CustomResourceDefinition, StorageClass,
/// PriorityClass, IngressClass, RuntimeClass, webhook configurations, APIService, ...).
/// Kinds it does not know, custom resources among them, count as namespaced.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    matches!(
        (group(api_version), kind),
        (
            "",
            "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus"
        ) | (
            "rbac.authorization.k8s.io",
            "ClusterRole" | "ClusterRoleBinding"
        ) | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "storage.k8s.io",
                "StorageClass"
                    | "CSIDriver"
                    | "CSINode"
                    | "VolumeAttachment"
                    | "VolumeAttributesClass"
            )
            | ("scheduling.k8s.io", "PriorityClass")
            | (
                "networking.k8s.io",
                "IngressClass" | "IPAddress" | "ServiceCIDR"
            )
            | ("node.k8s.io", "RuntimeClass")
            | (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration"
                    | "MutatingWebhookConfiguration"
                    | "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
                    | "MutatingAdmissionPolicy"
                    | "MutatingAdmissionPolicyBinding"
            )
            | (
                "certificates.k8s.io",
                "CertificateSigningRequest" | "ClusterTrustBundle"
            )
            | (
                "flowcontrol.apiserver.k8s.io",
                "FlowSchema" | "PriorityLevelConfiguration"
            )
            | ("resource.k8s.io", "DeviceClass")
            | ("policy", "PodSecurityPolicy")
            | ("internal.apiserver.k8s.io", "StorageVersion")
            | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
            | (
                "authorization.k8s.io",
                "SubjectAccessReview" | "SelfSubjectAccessReview" | "SelfSubjectRulesReview"
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str, name: &str) -> Object {
        Object {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            body: serde_json::Value::Null,
        }
    }

    #[test]
    fn config_then_services_then_workloads_then_the_rest_stable_within_a_rank() {
        let mut objects = vec![
            object("networking.k8s.io/v1", "Ingress", "web"),
            object("apps/v1", "Deployment", "web"),
            object("v1", "Service", "web"),
            object("policy/v1", "PodDisruptionBudget", "web"),
            object("v1", "ConfigMap", "b"),
            object("apps/v1", "StatefulSet", "db"),
            object("v1", "Secret", "a"),
            object("v1", "Namespace", "team"),
            object("autoscaling/v2", "HorizontalPodAutoscaler", "web"),
            object("v1", "ConfigMap", "a"),
            object("rbac.authorization.k8s.io/v1", "RoleBinding", "web"),
            object("v1", "ServiceAccount", "web"),
            object("v1", "PersistentVolumeClaim", "data"),
            object("example.com/v1", "Widget", "w"),
        ];
        apply_order(&mut objects);
        let order: Vec<String> = objects.iter().map(Object::display_name).collect();
        assert_eq!(
            order,
            [
                "namespace/team",
                "configmap/b",
                "secret/a",
                "configmap/a",
                "rolebinding.rbac.authorization.k8s.io/web",
                "serviceaccount/web",
                "persistentvolumeclaim/data",
                "service/web",
                "deployment.apps/web",
                "statefulset.apps/db",
                "ingress.networking.k8s.io/web",
                "poddisruptionbudget.policy/web",
                "horizontalpodautoscaler.autoscaling/web",
                "widget.example.com/w",
            ]
        );
    }

    #[test]
    fn cluster_scoped_kinds_are_known_by_group_and_kind() {
        for (api_version, kind) in [
            ("v1", "Namespace"),
            ("v1", "Node"),
            ("v1", "PersistentVolume"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("storage.k8s.io/v1", "StorageClass"),
            ("storage.k8s.io/v1", "CSIDriver"),
            ("scheduling.k8s.io/v1", "PriorityClass"),
            ("networking.k8s.io/v1", "IngressClass"),
            ("node.k8s.io/v1", "RuntimeClass"),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
            ),
            ("apiregistration.k8s.io/v1", "APIService"),
            ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ] {
            assert!(is_cluster_scoped(api_version, kind), "{api_version} {kind}");
        }
    }

    #[test]
    fn namespaced_and_unknown_kinds_are_not_cluster_scoped() {
        for (api_version, kind) in [
            ("v1", "ConfigMap"),
            ("v1", "Service"),
            ("apps/v1", "Deployment"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("networking.k8s.io/v1", "Ingress"),
            ("example.com/v1", "Widget"),
            ("example.com/v1", "ClusterRole"),
            ("apps/v1", "Namespace"),
        ] {
            assert!(
                !is_cluster_scoped(api_version, kind),
                "{api_version} {kind}"
            );
        }
    }
}
