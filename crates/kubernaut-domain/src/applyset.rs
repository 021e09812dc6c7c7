//! ApplySets (KEP-3659, "kubectl apply --prune --applyset"): the label and annotation keys of
//! the specification, group-kinds as its annotations write them, and the rule of what a prune
//! may delete, as pure functions.
//!
//! The objects kubernaut applies for one service in one namespace of a cluster form an ApplySet.
//! Each member carries the label [`APPLYSET_PART_OF_LABEL`] whose value is the set's id; the
//! set's parent object carries the same id in [`APPLYSET_ID_LABEL`] and says in
//! [`APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION`] which group-kinds to list to find the members.
//! Computing the id and building the parent is the cluster crate's work
//! (`kubernaut_cluster::ApplySet`).

use std::collections::BTreeSet;
use std::fmt;

/// The label that makes an object an ApplySet parent; its value is the set's id,
/// `applyset-<base64url(sha256(<name>.<namespace>.<Kind>.<group>))>-v1`.
pub const APPLYSET_ID_LABEL: &str = "applyset.kubernetes.io/id";
/// The label that makes an object a member of the ApplySet whose id is its value.
pub const APPLYSET_PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// The parent's annotation naming the tool that manages the set, as `<tool>/<version>`. Tools
/// refuse to change a set another tool manages.
pub const APPLYSET_TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
/// The parent's annotation listing the group-kinds of its members: sorted, comma-separated,
/// each `<Kind>` (core group) or `<Kind>.<group>`, e.g. `ConfigMap,Deployment.apps,Service`.
/// Empty when the set has no members.
pub const APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION: &str =
    "applyset.kubernetes.io/contains-group-kinds";
/// The parent's annotation listing the namespaces of members other than the parent's own
/// (comma-separated). Kubernaut's sets live in one namespace: it is written empty, as kubectl
/// writes it for such a set.
pub const APPLYSET_ADDITIONAL_NAMESPACES_ANNOTATION: &str =
    "applyset.kubernetes.io/additional-namespaces";
/// The value of [`APPLYSET_TOOLING_ANNOTATION`] on the parents kubernaut writes.
pub const APPLYSET_TOOLING: &str = "kubernaut/v1";
/// The tool name within [`APPLYSET_TOOLING`]: a parent whose tooling has another name is not
/// kubernaut's to change.
pub const APPLYSET_TOOL: &str = "kubernaut";

/// A kind within its API group, without version: `Deployment` in `apps`, `ConfigMap` in the core
/// group. Displays as the ApplySet annotations (and kubectl) write it: `Deployment.apps`,
/// `ConfigMap`.
///
/// Ordered by kind, then group, which is also the order of their displayed forms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// The API group, e.g. `apps`; empty for the core group.
    pub group: String,
}

impl GroupKind {
    /// The group-kind of `kind` in `group` (empty for the core group).
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            group: group.into(),
        }
    }

    /// The group-kind of an object of `apiVersion` `api_version`: the group is the part before
    /// the `/` (`apps` of `apps/v1`), the core group for `v1`.
    pub fn of(api_version: &str, kind: &str) -> Self {
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(group, _version)| group);
        Self::new(group, kind)
    }

    /// Parses the displayed form, as kubectl does: the kind is what comes before the first `.`,
    /// the group what follows it (`Deployment.apps`, `Ingress.networking.k8s.io`, `ConfigMap`).
    pub fn parse(text: &str) -> Self {
        match text.split_once('.') {
            Some((kind, group)) => Self::new(group, kind),
            None => Self::new("", text),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The value of [`APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION`] for these group-kinds: each once,
/// sorted by displayed form, comma-separated (empty for none), as kubectl writes it.
pub fn group_kinds_annotation<'a>(group_kinds: impl IntoIterator<Item = &'a GroupKind>) -> String {
    let shown: BTreeSet<String> = group_kinds.into_iter().map(ToString::to_string).collect();
    shown.into_iter().collect::<Vec<_>>().join(",")
}

/// The group-kinds that a [`APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION`] value lists; empty
/// entries (an empty annotation: an empty set) are skipped.
pub fn parse_group_kinds(annotation: &str) -> BTreeSet<GroupKind> {
    annotation
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(GroupKind::parse)
        .collect()
}

/// What an object is called within one namespace: its group-kind and name. Two objects with the
/// same key are the same object, whatever the version they were read or written in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberKey {
    /// Its group-kind.
    pub group_kind: GroupKind,
    /// Its `metadata.name`.
    pub name: String,
}

/// What the prune rule reads of an object found in a cluster.
pub trait SetMember {
    /// Its group-kind and name.
    fn key(&self) -> MemberKey;
    /// Its `metadata.namespace`; `None` for cluster-scoped objects.
    fn namespace(&self) -> Option<&str>;
    /// The value of its [`APPLYSET_PART_OF_LABEL`] label, if it has one.
    fn part_of(&self) -> Option<&str>;
}

/// The objects to delete after applying a manifest: of `found` (what listing the set's
/// group-kinds returned), those that
///
/// - carry [`APPLYSET_PART_OF_LABEL`] with exactly the value `applyset_id`,
/// - lie in `namespace` (or in none: cluster-scoped), and
/// - whose group-kind and name are not among `manifest`, the keys of the objects just applied.
///
/// An object without the label, or labelled for another set, is never returned, whatever its
/// name; neither is one in another namespace. The order of `found` is kept.
pub fn prunable<'a, M: SetMember>(
    applyset_id: &str,
    namespace: &str,
    found: &'a [M],
    manifest: &BTreeSet<MemberKey>,
) -> Vec<&'a M> {
    found
        .iter()
        .filter(|object| !applyset_id.is_empty() && object.part_of() == Some(applyset_id))
        .filter(|object| object.namespace().is_none_or(|ns| ns == namespace))
        .filter(|object| !manifest.contains(&object.key()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_kinds_display_and_parse_like_kubectl() {
        for (api_version, kind, shown) in [
            ("apps/v1", "Deployment", "Deployment.apps"),
            ("v1", "ConfigMap", "ConfigMap"),
            (
                "networking.k8s.io/v1",
                "Ingress",
                "Ingress.networking.k8s.io",
            ),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "HorizontalPodAutoscaler.autoscaling",
            ),
        ] {
            let group_kind = GroupKind::of(api_version, kind);
            assert_eq!(group_kind.to_string(), shown);
            assert_eq!(GroupKind::parse(shown), group_kind);
        }
        assert_eq!(
            GroupKind::of("apps/v1beta2", "Deployment"),
            GroupKind::of("apps/v1", "Deployment")
        );
    }

    #[test]
    fn the_annotation_is_sorted_deduplicated_and_comma_separated() {
        let kinds = [
            GroupKind::of("v1", "Service"),
            GroupKind::of("apps/v1", "Deployment"),
            GroupKind::of("v1", "ConfigMap"),
            GroupKind::of("rbac.authorization.k8s.io/v1", "RoleBinding"),
            GroupKind::of("rbac.authorization.k8s.io/v1", "Role"),
            GroupKind::of("apps/v1", "Deployment"),
        ];
        let annotation = group_kinds_annotation(&kinds);
        assert_eq!(
            annotation,
            "ConfigMap,Deployment.apps,Role.rbac.authorization.k8s.io,\
             RoleBinding.rbac.authorization.k8s.io,Service"
        );
        assert_eq!(
            parse_group_kinds(&annotation),
            kinds.iter().cloned().collect::<BTreeSet<_>>()
        );
        assert_eq!(group_kinds_annotation(&[]), "");
        assert_eq!(parse_group_kinds(""), BTreeSet::new());
        assert_eq!(
            parse_group_kinds("ConfigMap,,Deployment.apps"),
            BTreeSet::from([
                GroupKind::of("v1", "ConfigMap"),
                GroupKind::of("apps/v1", "Deployment")
            ])
        );
    }

    #[test]
    fn the_order_of_group_kinds_is_the_order_of_their_displayed_forms() {
        let mut kinds = [
            GroupKind::of("rbac.authorization.k8s.io/v1", "RoleBinding"),
            GroupKind::of("example.com/v1", "Role"),
            GroupKind::of("rbac.authorization.k8s.io/v1", "Role"),
            GroupKind::of("v1", "ConfigMap"),
            GroupKind::of("apps/v1", "Deployment"),
        ];
        kinds.sort();
        let shown: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        let mut sorted = shown.clone();
        sorted.sort();
        assert_eq!(shown, sorted);
    }

    struct Found {
        key: MemberKey,
        namespace: Option<&'static str>,
        part_of: Option<&'static str>,
    }

    impl SetMember for Found {
        fn key(&self) -> MemberKey {
            self.key.clone()
        }
        fn namespace(&self) -> Option<&str> {
            self.namespace
        }
        fn part_of(&self) -> Option<&str> {
            self.part_of
        }
    }

    fn key(api_version: &str, kind: &str, name: &str) -> MemberKey {
        MemberKey {
            group_kind: GroupKind::of(api_version, kind),
            name: name.into(),
        }
    }

    fn found(
        api_version: &str,
        kind: &str,
        name: &str,
        namespace: Option<&'static str>,
        part_of: Option<&'static str>,
    ) -> Found {
        Found {
            key: key(api_version, kind, name),
            namespace,
            part_of,
        }
    }

    const ID: &str = "applyset-abc-v1";

    fn names(pruned: &[&Found]) -> Vec<String> {
        pruned
            .iter()
            .map(|f| format!("{}/{}", f.key.group_kind, f.key.name))
            .collect()
    }

    #[test]
    fn members_no_longer_in_the_manifest_are_pruned() {
        let found = [
            found("apps/v1", "Deployment", "web", Some("team"), Some(ID)),
            found("v1", "ConfigMap", "web-config", Some("team"), Some(ID)),
            found("v1", "Service", "web", Some("team"), Some(ID)),
            found("v1", "ConfigMap", "old-config", Some("team"), Some(ID)),
        ];
        let manifest = BTreeSet::from([
            key("apps/v1", "Deployment", "web"),
            key("v1", "Service", "web"),
        ]);
        assert_eq!(
            names(&prunable(ID, "team", &found, &manifest)),
            ["ConfigMap/web-config", "ConfigMap/old-config"]
        );
    }

    #[test]
    fn the_same_name_in_another_kind_or_group_is_another_object() {
        let found = [
            found("v1", "ConfigMap", "web", Some("team"), Some(ID)),
            found(
                "example.com/v1",
                "Deployment",
                "web",
                Some("team"),
                Some(ID),
            ),
            found("apps/v1", "Deployment", "web", Some("team"), Some(ID)),
        ];
        let manifest = BTreeSet::from([key("apps/v1", "Deployment", "web")]);
        assert_eq!(
            names(&prunable(ID, "team", &found, &manifest)),
            ["ConfigMap/web", "Deployment.example.com/web"]
        );
    }

    #[test]
    fn objects_without_this_sets_label_are_never_pruned() {
        let found = [
            found("v1", "ConfigMap", "unlabelled", Some("team"), None),
            found(
                "v1",
                "ConfigMap",
                "other-set",
                Some("team"),
                Some("applyset-xyz-v1"),
            ),
            found(
                "v1",
                "ConfigMap",
                "almost",
                Some("team"),
                Some("applyset-abc-v1 "),
            ),
            found("v1", "ConfigMap", "member", Some("team"), Some(ID)),
        ];
        assert_eq!(
            names(&prunable(ID, "team", &found, &BTreeSet::new())),
            ["ConfigMap/member"]
        );
        assert!(prunable("", "team", &found, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn objects_of_another_namespace_are_never_pruned_cluster_scoped_ones_are() {
        let found = [
            found("v1", "ConfigMap", "elsewhere", Some("other"), Some(ID)),
            found(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "reader",
                None,
                Some(ID),
            ),
        ];
        assert_eq!(
            names(&prunable(ID, "team", &found, &BTreeSet::new())),
            ["ClusterRole.rbac.authorization.k8s.io/reader"]
        );
    }

    #[test]
    fn a_manifest_with_every_member_prunes_nothing() {
        let found = [
            found("apps/v1", "Deployment", "web", Some("team"), Some(ID)),
            found("v1", "Service", "web", Some("team"), Some(ID)),
        ];
        let manifest = BTreeSet::from([
            key("apps/v1", "Deployment", "web"),
            key("v1", "Service", "web"),
            key("v1", "ConfigMap", "new"),
        ]);
        assert!(prunable(ID, "team", &found, &manifest).is_empty());
    }
}
