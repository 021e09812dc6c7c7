//! The [`Cluster`] of a real API server, through kube-rs.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::core::Selector;
use kube::discovery::{self, Scope};
use kube::error::DiscoveryError;
use kubernaut_domain::{APPLYSET_PART_OF_LABEL, GroupKind, Rollout, stuck_container};

use crate::cluster::{Applied, Cluster, FIELD_MANAGER};
use crate::diff::DryRun;
use crate::error::{ClusterError, error_chain};
use crate::kinds::is_cluster_scoped;
use crate::kube_rollouts::{pods_matter, reported, revision_label};
use crate::object::{LiveObject, Object, ObjectRef, Workload, WorkloadKind, group, version};
use crate::pods::{selector, waiting_containers, with_label};

/// How to address a kind: its resource (plural) and whether it lives in a namespace.
#[derive(Clone)]
struct Resource {
    api: ApiResource,
    namespaced: bool,
}

/// The version in which to list a group-kind when discovery cannot say: the preferred version
/// of the built-in groups (`v2` for `autoscaling`), else `v1`.
fn preferred_version(group: &str) -> &'static str {
    match group {
        "autoscaling" => "v2",
        _ => "v1",
    }
}

/// A cluster reached through a [`kube::Client`].
///
/// Objects are applied as dynamic objects. Each kind's resource name and scope come from API
/// discovery, remembered per kind; when discovery is unavailable the plural is derived from the
/// kind ([`ApiResource::from_gvk`]) and the scope from [`is_cluster_scoped`]. ApplySet members
/// are listed per group-kind in the version discovery recommends (when discovery is unavailable,
/// the preferred version of the built-in groups).
pub struct KubeCluster {
    client: Client,
    server: String,
    resources: Mutex<HashMap<(String, String), Resource>>,
    group_kinds: Mutex<HashMap<GroupKind, Resource>>,
}

impl fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeCluster")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl KubeCluster {
    /// A cluster over `client`. Its errors speak of "the API server".
    pub fn new(client: Client) -> Self {
        Self::with_server(client, "the API server".to_owned())
    }

    /// A cluster over the client of context `context` (a kubeconfig or the in-cluster one). Its
    /// errors name the context.
    pub fn for_context(client: Client, context: &str) -> Self {
        Self::with_server(client, format!("the API server of context {context:?}"))
    }

    fn with_server(client: Client, server: String) -> Self {
        Self {
            client,
            server,
            resources: Mutex::default(),
            group_kinds: Mutex::default(),
        }
    }

    async fn resource(&self, api_version: &str, kind: &str) -> Resource {
        let key = (api_version.to_owned(), kind.to_owned());
        let known = self
            .resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(resource) = known {
            return resource;
        }
        let gvk = GroupVersionKind::gvk(group(api_version), version(api_version), kind);
        match discovery::pinned_kind(&self.client, &gvk).await {
            Ok((api, capabilities)) => {
                let resource = Resource {
                    api,
                    namespaced: capabilities.scope == Scope::Namespaced,
                };
                self.resources
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, resource.clone());
                resource
            }
            Err(error) => {
                log::debug!(
                    "discovery of {api_version} {kind} failed, deriving its resource name: {error}"
                );
                Resource {
                    api: ApiResource::from_gvk(&gvk),
                    namespaced: !is_cluster_scoped(api_version, kind),
                }
            }
        }
    }

    /// How to list a group-kind: discovery's recommended version of it, remembered; `None` when
    /// the cluster does not serve it (a missing group, or a kind the group does not have). When
    /// discovery fails otherwise, the preferred version of the built-in groups.
    async fn group_kind_resource(&self, group_kind: &GroupKind) -> Option<Resource> {
        let known = self
            .group_kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(group_kind)
            .cloned();
        if known.is_some() {
            return known;
        }
        match discovery::group(&self.client, &group_kind.group).await {
            Ok(api_group) => {
                let (api, capabilities) = api_group.recommended_kind(&group_kind.kind)?;
                let resource = Resource {
                    api,
                    namespaced: capabilities.scope == Scope::Namespaced,
                };
                self.group_kinds
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(group_kind.clone(), resource.clone());
                Some(resource)
            }
            Err(kube::Error::Discovery(DiscoveryError::MissingApiGroup(_))) => None,
            Err(error) => {
                let gvk = GroupVersionKind::gvk(
                    &group_kind.group,
                    preferred_version(&group_kind.group),
                    &group_kind.kind,
                );
                log::debug!(
                    "discovery of {group_kind} failed, listing it as {}: {error}",
                    gvk.api_version()
                );
                Some(Resource {
                    api: ApiResource::from_gvk(&gvk),
                    namespaced: !is_cluster_scoped(&gvk.api_version(), &group_kind.kind),
                })
            }
        }
    }

    /// The API of an object's kind: in `namespace` for namespaced kinds.
    async fn object_api(
        &self,
        namespace: &str,
        api_version: &str,
        kind: &str,
    ) -> (Api<DynamicObject>, Resource) {
        let resource = self.resource(api_version, kind).await;
        let api = if resource.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resource.api)
        } else {
            Api::all_with(self.client.clone(), &resource.api)
        };
        (api, resource)
    }

    /// A document read from the API server as a live object; `fallback` gives the apiVersion
    /// and kind when the answer leaves them out (as list items may).
    fn live(
        &self,
        object: DynamicObject,
        fallback: &ApiResource,
        what: &str,
    ) -> Result<LiveObject, ClusterError> {
        let mut body = serde_json::to_value(&object).map_err(|e| self.unexpected(what, e))?;
        if let Some(document) = body.as_object_mut() {
            document
                .entry("apiVersion")
                .or_insert_with(|| fallback.api_version.clone().into());
            document
                .entry("kind")
                .or_insert_with(|| fallback.kind.clone().into());
        }
        LiveObject::from_body(body).ok_or_else(|| ClusterError::UnexpectedResponse {
            server: self.server.clone(),
            object: what.to_owned(),
            reason: "an object without apiVersion, kind or metadata.name".into(),
        })
    }

    fn unexpected(&self, object: &str, error: serde_json::Error) -> ClusterError {
        ClusterError::UnexpectedResponse {
            server: self.server.clone(),
            object: object.to_owned(),
            reason: error.to_string(),
        }
    }

    /// The API of a built-in namespaced kind.
    pub(crate) fn api(&self, namespace: &str, group: &str, kind: &str) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
        Api::namespaced_with(self.client.clone(), namespace, &resource)
    }

    /// The error of a request about `object`.
    pub(crate) fn error(&self, object: &str, error: kube::Error) -> ClusterError {
        match error {
            kube::Error::Api(status) => ClusterError::Rejected {
                object: object.to_owned(),
                code: status.code,
                reason: if status.reason.is_empty() {
                    "Unknown".to_owned()
                } else {
                    status.reason
                },
                message: status.message,
            },
            kube::Error::SerdeError(error) => ClusterError::UnexpectedResponse {
                server: self.server.clone(),
                object: object.to_owned(),
                reason: error.to_string(),
            },
            kube::Error::Service(error) => self.unreachable(object, error_chain(error.as_ref())),
            kube::Error::HyperError(error) => self.unreachable(object, error_chain(&error)),
            error => self.unreachable(object, error_chain(&error)),
        }
    }

    fn unreachable(&self, object: &str, reason: String) -> ClusterError {
        ClusterError::Unreachable {
            server: self.server.clone(),
            object: object.to_owned(),
            reason,
        }
    }

    /// Narrows the workload's pod selector to its newest revision, when that can be told:
    /// pods of older revisions may still crash while the new ones start fine.
    async fn current_revision(
        &self,
        namespace: &str,
        workload: &Workload,
        current: &DynamicObject,
        selector: Selector,
    ) -> Result<Selector, kube::Error> {
        let owned = ListParams::default().labels_from(&selector);
        let owners = match workload.kind {
            WorkloadKind::Deployment => "ReplicaSet",
            WorkloadKind::DaemonSet => "ControllerRevision",
            WorkloadKind::StatefulSet => "",
        };
        let owned = if owners.is_empty() {
            Vec::new()
        } else {
            self.api(namespace, "apps", owners)
                .list(&owned)
                .await?
                .items
        };
        Ok(match revision_label(workload.kind, current, &owned) {
            Some((label, hash)) => with_label(selector, label, hash),
            None => selector,
        })
    }

    /// The workload as the API server has it.
    pub(crate) async fn current(
        &self,
        namespace: &str,
        workload: &Workload,
    ) -> Result<DynamicObject, ClusterError> {
        self.api(namespace, "apps", workload.kind.as_str())
            .get(&workload.name)
            .await
            .map_err(|e| self.error(&workload.to_string(), e))
    }

    async fn stuck_pod(
        &self,
        namespace: &str,
        workload: &Workload,
        current: &DynamicObject,
    ) -> Result<Option<String>, kube::Error> {
        let Some(selector) = selector(current) else {
            return Ok(None);
        };
        let selector = self
            .current_revision(namespace, workload, current, selector)
            .await?;
        let pods = self
            .api(namespace, "", "Pod")
            .list(&ListParams::default().labels_from(&selector))
            .await?;
        Ok(stuck_container(&waiting_containers(&pods.items, &selector)))
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    /// Gets the object's metadata, then server-side applies it: absent before means created,
    /// the same `resourceVersion` after means unchanged, another one configured.
    async fn apply(&self, namespace: &str, object: &Object) -> Result<Applied, ClusterError> {
        let name = object.display_name();
        let (api, resource) = self
            .object_api(namespace, &object.api_version, &object.kind)
            .await;
        let body = object.body_in(resource.namespaced.then_some(namespace))?;
        let before = api
            .get_metadata_opt(&object.name)
            .await
            .map_err(|e| self.error(&name, e))?;
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let after = api
            .patch(&object.name, &params, &Patch::Apply(&body))
            .await
            .map_err(|e| self.error(&name, e))?;
        Ok(match before {
            None => Applied::Created,
            Some(before)
                if before.metadata.resource_version.is_some()
                    && before.metadata.resource_version == after.metadata.resource_version =>
            {
                Applied::Unchanged
            }
            Some(_) => Applied::Configured,
        })
    }

    /// Reads the workload and applies the domain's rule. While it is progressing and its
    /// controller has seen the latest spec, the pods of its newest revision (a Deployment's
    /// newest ReplicaSet, a StatefulSet's update revision, a DaemonSet's newest
    /// ControllerRevision; all pods of the selector when that is unknown) are checked for stuck
    /// containers.
    async fn rollout(&self, namespace: &str, workload: &Workload) -> Result<Rollout, ClusterError> {
        let current = self.current(namespace, workload).await?;
        let rollout = reported(workload, &current);
        if !pods_matter(&rollout, &current) {
            return Ok(rollout);
        }
        let stuck = self
            .stuck_pod(namespace, workload, &current)
            .await
            .map_err(|e| self.error(&workload.to_string(), e))?;
        Ok(stuck.map_or(rollout, Rollout::Failed))
    }

    /// One workload as [`rollout`](Self::rollout) reads it; several together with one list
    /// per workload kind of the namespace's ApplySet members (a workload without the label is
    /// read on its own), and, when some progress, one list each of the namespace's pods,
    /// ReplicaSets and ControllerRevisions: the requests do not grow with the workloads.
    async fn rollouts(
        &self,
        namespace: &str,
        workloads: &[Workload],
    ) -> Vec<Result<Rollout, ClusterError>> {
        match workloads {
            [] => Vec::new(),
            [workload] => vec![self.rollout(namespace, workload).await],
            _ => self.read_rollouts(namespace, workloads).await,
        }
    }

    async fn get(
        &self,
        namespace: &str,
        object: &ObjectRef,
    ) -> Result<Option<LiveObject>, ClusterError> {
        let name = object.display_name();
        let (api, resource) = self
            .object_api(namespace, &object.api_version, &object.kind)
            .await;
        let current = api
            .get_opt(&object.name)
            .await
            .map_err(|e| self.error(&name, e))?;
        current
            .map(|current| self.live(current, &resource.api, &name))
            .transpose()
    }

    /// Gets the live object, then server-side applies with `dryRun=All`: the API server runs
    /// admission, defaulting and validation and answers the object it would store, storing
    /// nothing. The two are compared by [`DryRun::between`].
    async fn dry_run(&self, namespace: &str, object: &Object) -> Result<DryRun, ClusterError> {
        let name = object.display_name();
        let (api, resource) = self
            .object_api(namespace, &object.api_version, &object.kind)
            .await;
        let body = object.body_in(resource.namespaced.then_some(namespace))?;
        let live = api
            .get_opt(&object.name)
            .await
            .map_err(|e| self.error(&name, e))?
            .map(|live| serde_json::to_value(&live))
            .transpose()
            .map_err(|e| self.unexpected(&name, e))?;
        let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
        let result = api
            .patch(&object.name, &params, &Patch::Apply(&body))
            .await
            .map_err(|e| self.error(&name, e))?;
        let result = serde_json::to_value(&result).map_err(|e| self.unexpected(&name, e))?;
        Ok(DryRun::between(
            object.object_ref(),
            resource.namespaced.then(|| namespace.to_owned()),
            live.as_ref(),
            &result,
        ))
    }

    /// Lists each group-kind with the label selector `applyset.kubernetes.io/part-of=<id>`
    /// (and checks the label again, in case the API server ignored the selector), each kind's
    /// members sorted by name. A kind that is not served (discovery says so, or the list is a
    /// 404) has no members.
    async fn members(
        &self,
        namespace: &str,
        applyset_id: &str,
        group_kinds: &BTreeSet<GroupKind>,
    ) -> Result<Vec<LiveObject>, ClusterError> {
        let selector = format!("{APPLYSET_PART_OF_LABEL}={applyset_id}");
        let mut members = Vec::new();
        for group_kind in group_kinds {
            let Some(resource) = self.group_kind_resource(group_kind).await else {
                continue;
            };
            let api: Api<DynamicObject> = if resource.namespaced {
                Api::namespaced_with(self.client.clone(), namespace, &resource.api)
            } else {
                Api::all_with(self.client.clone(), &resource.api)
            };
            let what = format!("{group_kind} objects labelled {selector}");
            let listed = match api.list(&ListParams::default().labels(&selector)).await {
                Ok(listed) => listed,
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                Err(error) => return Err(self.error(&what, error)),
            };
            let mut found = Vec::with_capacity(listed.items.len());
            for item in listed.items {
                let member = self.live(item, &resource.api, &what)?;
                if member.label(APPLYSET_PART_OF_LABEL) == Some(applyset_id) {
                    found.push(member);
                }
            }
            found.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            members.extend(found);
        }
        Ok(members)
    }

    /// Deletes with propagation `Background`, as `kubectl apply --prune` does; a 404 is fine.
    async fn delete(&self, namespace: &str, object: &ObjectRef) -> Result<(), ClusterError> {
        let name = object.display_name();
        let (api, _) = self
            .object_api(namespace, &object.api_version, &object.kind)
            .await;
        match api.delete(&object.name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(self.error(&name, error)),
        }
    }
}
