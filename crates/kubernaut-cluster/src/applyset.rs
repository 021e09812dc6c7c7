//! The ApplySet of a service (KEP-3659), as `kubectl apply --prune --applyset` keeps one: its
//! id, its parent Secret, the membership label, and the steps of a deployment that keep the set
//! and prune it.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kubernaut_domain::{
    APPLYSET_ADDITIONAL_NAMESPACES_ANNOTATION, APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION,
    APPLYSET_ID_LABEL, APPLYSET_PART_OF_LABEL, APPLYSET_TOOL, APPLYSET_TOOLING,
    APPLYSET_TOOLING_ANNOTATION, GroupKind, MemberKey, Namespace, ServiceName,
    group_kinds_annotation, parse_group_kinds, prunable,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cluster::Cluster;
use crate::diff::DryRun;
use crate::error::ClusterError;
use crate::object::{LiveObject, Object, ObjectRef};

/// The prefix of the name of a service's parent Secret: `kubernaut-<service>`.
pub const APPLYSET_PARENT_PREFIX: &str = "kubernaut-";

/// The parent's kind: a `v1` Secret, kubectl's default parent kind (no CRD to install, and
/// readable only by those who may read Secrets).
const PARENT_API_VERSION: &str = "v1";
const PARENT_KIND: &str = "Secret";
const PARENT_GROUP: &str = "";

/// The ApplySet of one service in one namespace of a cluster: the objects kubernaut applied for
/// it, each labelled `applyset.kubernetes.io/part-of=<id>`, and its parent, the Secret
/// `kubernaut-<service>` in that namespace, labelled `applyset.kubernetes.io/id=<id>` and
/// annotated with the tooling `kubernaut/v1` and the group-kinds of its members, so that
/// `kubectl apply --prune --applyset=kubernaut-<service>` (and any KEP-3659 tool) recognises it.
///
/// The id is kubectl's: `applyset-` + base64url without padding of the SHA-256 of
/// `<parent name>.<namespace>.Secret.` (name, namespace, kind and the parent's empty group,
/// joined by dots) + `-v1`.
///
/// # In a deployment
///
/// 1. [`prepare`](Self::prepare) the manifest's objects: it labels them as members, checks the
///    parent is kubernaut's, and writes the parent with the group-kinds it listed plus the
///    manifest's (a superset, so an interrupted deployment leaks no member). Keep the
///    group-kinds it returns.
/// 2. Apply the objects and watch the rollouts as before.
/// 3. After a successful rollout, unless pruning is off: for each of
///    [`prunable_members`](Self::prunable_members) (given the group-kinds from step 1),
///    [`Cluster::delete`] it and log `<kind>/<name> pruned` ([`LiveObject::display_name`]);
///    then [`commit`](Self::commit) the parent to the manifest's group-kinds. Without pruning,
///    or when a delete fails, do not commit: the parent keeps the superset, so that a later
///    prune still finds those members.
///
/// A dry run is [`dry_run`](Self::dry_run); the live objects are [`live`](Self::live), each
/// with [`LiveObject::health`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplySet {
    namespace: String,
    parent_name: String,
    id: String,
}

impl ApplySet {
    /// The ApplySet of `service` in `namespace`: parent Secret `kubernaut-<service>`.
    pub fn for_service(service: &ServiceName, namespace: &Namespace) -> Self {
        Self::with_parent(
            &format!("{APPLYSET_PARENT_PREFIX}{}", service.as_str()),
            namespace.as_str(),
        )
    }

    /// The ApplySet whose parent is the Secret `parent_name` in `namespace`.
    pub fn with_parent(parent_name: &str, namespace: &str) -> Self {
        let unhashed = [parent_name, namespace, PARENT_KIND, PARENT_GROUP].join(".");
        let hash = Sha256::digest(unhashed.as_bytes());
        Self {
            namespace: namespace.to_owned(),
            parent_name: parent_name.to_owned(),
            id: format!("applyset-{}-v1", URL_SAFE_NO_PAD.encode(hash)),
        }
    }

    /// The id: the value of the parent's `applyset.kubernetes.io/id` label and of each member's
    /// `applyset.kubernetes.io/part-of` label.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The namespace of the parent and the members.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The parent Secret's name.
    pub fn parent_name(&self) -> &str {
        &self.parent_name
    }

    /// The parent Secret (`v1`, `Secret`, its name), e.g. to [`Cluster::get`] it.
    pub fn parent_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: PARENT_API_VERSION.into(),
            kind: PARENT_KIND.into(),
            name: self.parent_name.clone(),
        }
    }

    /// The label every member carries: `("applyset.kubernetes.io/part-of", id)`.
    pub fn member_label(&self) -> (&'static str, &str) {
        (APPLYSET_PART_OF_LABEL, &self.id)
    }

    /// The label selector of the members: `applyset.kubernetes.io/part-of=<id>`.
    pub fn selector(&self) -> String {
        format!("{APPLYSET_PART_OF_LABEL}={}", self.id)
    }

    /// The parent Secret to apply, listing `group_kinds` as its members' group-kinds: labelled
    /// with the id, annotated with the tooling `kubernaut/v1`, the sorted group-kinds and an
    /// empty `additional-namespaces`, as kubectl writes its parents. It holds no data.
    pub fn parent(&self, group_kinds: &BTreeSet<GroupKind>) -> Object {
        Object {
            api_version: PARENT_API_VERSION.into(),
            kind: PARENT_KIND.into(),
            name: self.parent_name.clone(),
            body: json!({
                "apiVersion": PARENT_API_VERSION,
                "kind": PARENT_KIND,
                "metadata": {
                    "name": self.parent_name,
                    "namespace": self.namespace,
                    "labels": {APPLYSET_ID_LABEL: self.id},
                    "annotations": {
                        APPLYSET_TOOLING_ANNOTATION: APPLYSET_TOOLING,
                        APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION:
                            group_kinds_annotation(group_kinds),
                        APPLYSET_ADDITIONAL_NAMESPACES_ANNOTATION: "",
                    }
                }
            }),
        }
    }

    fn error(&self, reason: impl Into<String>) -> ClusterError {
        ClusterError::ApplySet {
            parent: self.parent_ref().display_name(),
            reason: reason.into(),
        }
    }

    /// Makes `object` a member: sets its `applyset.kubernetes.io/part-of` label to the id.
    /// Fails when the manifest already labels it part of another set, or when it is the
    /// parent Secret itself.
    pub fn label(&self, object: &mut Object) -> Result<(), ClusterError> {
        if object.kind == PARENT_KIND
            && object.api_version == PARENT_API_VERSION
            && object.name == self.parent_name
        {
            return Err(self.error(format!(
                "the manifest holds {}, the name of the ApplySet's parent",
                object.display_name()
            )));
        }
        match object.label(APPLYSET_PART_OF_LABEL) {
            Some(id) if id == self.id => Ok(()),
            Some(other) => Err(self.error(format!(
                "{} is labelled {APPLYSET_PART_OF_LABEL}={other}: part of another ApplySet",
                object.display_name()
            ))),
            None => object.set_label(APPLYSET_PART_OF_LABEL, &self.id),
        }
    }

    /// The group-kinds an existing parent lists, once it is checked to be this set's
    /// kubernaut parent: it must have the tooling annotation of kubernaut (any version) and the
    /// id label of this set, as kubectl checks before it touches a parent. A parent without the
    /// group-kinds annotation lists none.
    pub fn check_parent(&self, parent: &LiveObject) -> Result<BTreeSet<GroupKind>, ClusterError> {
        let Some(tooling) = parent.annotation(APPLYSET_TOOLING_ANNOTATION) else {
            return Err(self.error(format!(
                "exists and is not an ApplySet parent: it has no {APPLYSET_TOOLING_ANNOTATION} \
                 annotation"
            )));
        };
        let tool = tooling.rsplit_once('/').map_or(tooling, |(tool, _)| tool);
        if tool != APPLYSET_TOOL {
            return Err(self.error(format!("is managed by {tooling:?}, not by {APPLYSET_TOOL}")));
        }
        match parent.label(APPLYSET_ID_LABEL) {
            Some(id) if id == self.id => {}
            Some(other) => {
                return Err(self.error(format!(
                    "has the label {APPLYSET_ID_LABEL}={other}, not {}",
                    self.id
                )));
            }
            None => {
                return Err(self.error(format!("has no {APPLYSET_ID_LABEL} label")));
            }
        }
        Ok(parent
            .annotation(APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION)
            .map(parse_group_kinds)
            .unwrap_or_default())
    }

    /// Of the live objects `found` (as [`Cluster::members`] lists them), those to delete after
    /// applying `manifest`: labelled part of this set, in its namespace (or cluster-scoped),
    /// and whose group-kind and name `manifest` no longer holds. Never an object without this
    /// set's label, whatever its name. See [`kubernaut_domain::prunable`].
    pub fn prunable<'a>(
        &self,
        found: &'a [LiveObject],
        manifest: &[Object],
    ) -> Vec<&'a LiveObject> {
        let keep: BTreeSet<MemberKey> = manifest
            .iter()
            .map(|object| MemberKey {
                group_kind: object.group_kind(),
                name: object.name.clone(),
            })
            .collect();
        prunable(&self.id, &self.namespace, found, &keep)
    }

    /// The group-kinds the parent lists now (none when there is no parent), once it is checked.
    pub async fn current_group_kinds(
        &self,
        cluster: &dyn Cluster,
    ) -> Result<BTreeSet<GroupKind>, ClusterError> {
        match cluster.get(&self.namespace, &self.parent_ref()).await? {
            Some(parent) => self.check_parent(&parent),
            None => Ok(BTreeSet::new()),
        }
    }

    /// Step 1 of a deployment, before applying: labels each of `objects` as a member (see
    /// [`label`](Self::label)), checks the parent (see [`check_parent`](Self::check_parent)),
    /// and applies the parent with the group-kinds it listed plus those of `objects`, unless it
    /// already lists exactly those. Returns that superset: the group-kinds to list for
    /// [`prunable_members`](Self::prunable_members).
    ///
    /// Running it again (a resumed deployment) does the same.
    pub async fn prepare(
        &self,
        cluster: &dyn Cluster,
        objects: &mut [Object],
    ) -> Result<BTreeSet<GroupKind>, ClusterError> {
        for object in objects.iter_mut() {
            self.label(object)?;
        }
        let parent = cluster.get(&self.namespace, &self.parent_ref()).await?;
        let current = match &parent {
            Some(parent) => self.check_parent(parent)?,
            None => BTreeSet::new(),
        };
        let mut kinds = current.clone();
        kinds.extend(objects.iter().map(Object::group_kind));
        let up_to_date = parent.as_ref().is_some_and(|parent| {
            parent.annotation(APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION)
                == Some(group_kinds_annotation(&kinds).as_str())
                && parent.annotation(APPLYSET_TOOLING_ANNOTATION) == Some(APPLYSET_TOOLING)
        });
        if !up_to_date {
            cluster.apply(&self.namespace, &self.parent(&kinds)).await?;
        }
        Ok(kinds)
    }

    /// Step 3 of a deployment, after a successful rollout: the members to delete, listed in
    /// `group_kinds` (those [`prepare`](Self::prepare) returned), that `objects` (the manifest
    /// just applied) no longer holds. See [`prunable`](Self::prunable).
    pub async fn prunable_members(
        &self,
        cluster: &dyn Cluster,
        group_kinds: &BTreeSet<GroupKind>,
        objects: &[Object],
    ) -> Result<Vec<LiveObject>, ClusterError> {
        let found = cluster
            .members(&self.namespace, &self.id, group_kinds)
            .await?;
        Ok(self
            .prunable(&found, objects)
            .into_iter()
            .cloned()
            .collect())
    }

    /// The end of step 3, once every prunable member is deleted: applies the parent with the
    /// group-kinds of `objects` only.
    pub async fn commit(
        &self,
        cluster: &dyn Cluster,
        objects: &[Object],
    ) -> Result<(), ClusterError> {
        let kinds: BTreeSet<GroupKind> = objects.iter().map(Object::group_kind).collect();
        cluster
            .apply(&self.namespace, &self.parent(&kinds))
            .await
            .map(|_| ())
    }

    /// What deploying `objects` would do, changing nothing: a [`Cluster::dry_run`] of each
    /// (labelled as a member, as the deployment would apply it), in order, then a
    /// [`DryRunAction::Prune`](crate::DryRunAction::Prune) for each member that a prune after
    /// the rollout would delete. Fails as the deployment would on a parent that is not
    /// kubernaut's or an object labelled for another set.
    pub async fn dry_run(
        &self,
        cluster: &dyn Cluster,
        objects: &[Object],
    ) -> Result<Vec<DryRun>, ClusterError> {
        let mut labelled = objects.to_vec();
        for object in &mut labelled {
            self.label(object)?;
        }
        let mut kinds = self.current_group_kinds(cluster).await?;
        let mut dry_runs = Vec::with_capacity(labelled.len());
        for object in &labelled {
            dry_runs.push(cluster.dry_run(&self.namespace, object).await?);
        }
        kinds.extend(labelled.iter().map(Object::group_kind));
        let pruned = self.prunable_members(cluster, &kinds, &labelled).await?;
        dry_runs.extend(pruned.iter().map(DryRun::prune));
        Ok(dry_runs)
    }

    /// The members as the cluster has them now, listed in the group-kinds the parent lists
    /// (none without a parent). [`LiveObject::health`] tells how each is doing.
    pub async fn live(&self, cluster: &dyn Cluster) -> Result<Vec<LiveObject>, ClusterError> {
        let kinds = self.current_group_kinds(cluster).await?;
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        cluster.members(&self.namespace, &self.id, &kinds).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn the_id_is_kubectls() {
        // The ids of kubectl's own tests (pkg/cmd/apply/apply_test.go): the Secret "my-set" in
        // namespace "test".
        assert_eq!(
            ApplySet::with_parent("my-set", "test").id(),
            "applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1"
        );
        let set = ApplySet::for_service(
            &ServiceName::parse("hello").unwrap(),
            &Namespace::parse("team").unwrap(),
        );
        assert_eq!(set.parent_name(), "kubernaut-hello");
        assert_eq!(set.namespace(), "team");
        assert_eq!(set, ApplySet::with_parent("kubernaut-hello", "team"));
        assert_ne!(
            set.id(),
            ApplySet::with_parent("kubernaut-hello", "other").id()
        );
        assert!(set.id().len() <= 63, "a label value: {}", set.id());
        assert_eq!(
            set.selector(),
            format!("applyset.kubernetes.io/part-of={}", set.id())
        );
        assert_eq!(
            set.member_label(),
            ("applyset.kubernetes.io/part-of", set.id())
        );
    }

    #[test]
    fn the_parent_is_a_secret_labelled_and_annotated_as_kubectl_writes_it() {
        let set = ApplySet::with_parent("kubernaut-hello", "team");
        let kinds = BTreeSet::from([
            GroupKind::of("v1", "Service"),
            GroupKind::of("apps/v1", "Deployment"),
            GroupKind::of("v1", "ConfigMap"),
        ]);
        let parent = set.parent(&kinds);
        assert_eq!(parent.object_ref(), set.parent_ref());
        assert_eq!(
            parent.body,
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "kubernaut-hello",
                    "namespace": "team",
                    "labels": {"applyset.kubernetes.io/id": set.id()},
                    "annotations": {
                        "applyset.kubernetes.io/tooling": "kubernaut/v1",
                        "applyset.kubernetes.io/contains-group-kinds":
                            "ConfigMap,Deployment.apps,Service",
                        "applyset.kubernetes.io/additional-namespaces": ""
                    }
                }
            })
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

    #[test]
    fn members_get_the_part_of_label_beside_their_own() -> Result<(), ClusterError> {
        let set = ApplySet::with_parent("kubernaut-hello", "team");
        let mut labelled = object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "labels": {"app": "hello"}}
        }));
        set.label(&mut labelled)?;
        assert_eq!(
            labelled.body["metadata"]["labels"],
            json!({"app": "hello", "applyset.kubernetes.io/part-of": set.id()})
        );
        set.label(&mut labelled)?;
        assert_eq!(labelled.label(APPLYSET_PART_OF_LABEL), Some(set.id()));

        for metadata in [
            json!({"name": "cfg"}),
            json!({"name": "cfg", "labels": null}),
        ] {
            let mut bare = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": metadata}));
            set.label(&mut bare)?;
            assert_eq!(
                bare.body["metadata"]["labels"],
                json!({"applyset.kubernetes.io/part-of": set.id()})
            );
        }
        Ok(())
    }

    #[test]
    fn an_object_of_another_set_or_the_parent_itself_is_refused() {
        let set = ApplySet::with_parent("kubernaut-hello", "team");
        let mut foreign = object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg",
                         "labels": {"applyset.kubernetes.io/part-of": "applyset-x-v1"}}
        }));
        assert_eq!(
            set.label(&mut foreign).unwrap_err().to_string(),
            "ApplySet secret/kubernaut-hello: configmap/cfg is labelled \
             applyset.kubernetes.io/part-of=applyset-x-v1: part of another ApplySet"
        );
        let mut parent = object(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kubernaut-hello"}
        }));
        assert_eq!(
            set.label(&mut parent).unwrap_err().to_string(),
            "ApplySet secret/kubernaut-hello: the manifest holds secret/kubernaut-hello, the \
             name of the ApplySet's parent"
        );
        let mut broken = object(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": []}
        }));
        assert_eq!(
            set.label(&mut broken).unwrap_err().to_string(),
            "configmap/cfg cannot be applied: metadata.labels is not a mapping"
        );
    }

    fn live(body: Value) -> LiveObject {
        LiveObject::from_body(body).unwrap()
    }

    #[test]
    fn a_parent_is_checked_before_it_is_used() {
        let set = ApplySet::with_parent("kubernaut-hello", "team");
        let ours = live(
            set.parent(&BTreeSet::from([GroupKind::of("v1", "ConfigMap")]))
                .body,
        );
        assert_eq!(
            set.check_parent(&ours).unwrap(),
            BTreeSet::from([GroupKind::of("v1", "ConfigMap")])
        );
        let parent = |labels: Value, annotations: Value| {
            live(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "kubernaut-hello", "namespace": "team",
                             "labels": labels, "annotations": annotations}
            }))
        };
        let id = json!({"applyset.kubernetes.io/id": set.id()});
        let newer = parent(
            id.clone(),
            json!({"applyset.kubernetes.io/tooling": "kubernaut/v2"}),
        );
        assert_eq!(set.check_parent(&newer).unwrap(), BTreeSet::new());
        for (wrong, message) in [
            (
                parent(id.clone(), json!({})),
                "exists and is not an ApplySet parent: it has no applyset.kubernetes.io/tooling \
                 annotation",
            ),
            (
                parent(
                    id.clone(),
                    json!({"applyset.kubernetes.io/tooling": "kubectl/v1.32"}),
                ),
                "is managed by \"kubectl/v1.32\", not by kubernaut",
            ),
            (
                parent(
                    json!({"applyset.kubernetes.io/id": "applyset-x-v1"}),
                    json!({"applyset.kubernetes.io/tooling": "kubernaut/v1"}),
                ),
                "has the label applyset.kubernetes.io/id=applyset-x-v1, not ",
            ),
            (
                parent(
                    json!({}),
                    json!({"applyset.kubernetes.io/tooling": "kubernaut/v1"}),
                ),
                "has no applyset.kubernetes.io/id label",
            ),
        ] {
            let error = set.check_parent(&wrong).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("ApplySet secret/kubernaut-hello: {message}")),
                "{error}"
            );
        }
    }

    #[test]
    fn only_labelled_members_the_manifest_dropped_are_prunable() {
        let set = ApplySet::with_parent("kubernaut-hello", "team");
        let member = |kind: &str, name: &str, labels: Value| {
            live(json!({
                "apiVersion": if kind == "Deployment" { "apps/v1" } else { "v1" },
                "kind": kind,
                "metadata": {"name": name, "namespace": "team", "labels": labels}
            }))
        };
        let ours = json!({"applyset.kubernetes.io/part-of": set.id()});
        let found = [
            member("Deployment", "web", ours.clone()),
            member("ConfigMap", "dropped", ours.clone()),
            member("ConfigMap", "unlabelled", json!({"app": "web"})),
            member(
                "ConfigMap",
                "theirs",
                json!({"applyset.kubernetes.io/part-of": "applyset-x-v1"}),
            ),
        ];
        let manifest = [object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}
        }))];
        let pruned: Vec<String> = set
            .prunable(&found, &manifest)
            .iter()
            .map(|o| o.display_name())
            .collect();
        assert_eq!(pruned, ["configmap/dropped"]);
    }
}
