//! The [`Cluster`] of a real API server, through kube-rs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::core::Selector;
use kube::discovery::{self, Scope};
use kubernaut_domain::{
    Rollout, daemon_set_rollout, deployment_rollout, stateful_set_rollout, stuck_container,
};

use crate::cluster::{Applied, Cluster, FIELD_MANAGER};
use crate::error::{ClusterError, error_chain};
use crate::kinds::is_cluster_scoped;
use crate::object::{Object, Workload, WorkloadKind, group, version};
use crate::pods::{
    CONTROLLER_REVISION_HASH, POD_TEMPLATE_HASH, newest_controller_revision_hash,
    newest_replica_set_hash, selector, waiting_containers, with_label,
};
use crate::states;

/// How to address a kind: its resource (plural) and whether it lives in a namespace.
#[derive(Clone)]
struct Resource {
    api: ApiResource,
    namespaced: bool,
}

/// A cluster reached through a [`kube::Client`].
///
/// Objects are applied as dynamic objects. Each kind's resource name and scope come from API
/// discovery, remembered per kind; when discovery is unavailable the plural is derived from the
/// kind ([`ApiResource::from_gvk`]) and the scope from [`is_cluster_scoped`].
pub struct KubeCluster {
    client: Client,
    server: String,
    resources: Mutex<HashMap<(String, String), Resource>>,
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
        }
    }

    async fn resource(&self, object: &Object) -> Resource {
        let key = (object.api_version.clone(), object.kind.clone());
        let known = self
            .resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(resource) = known {
            return resource;
        }
        let gvk = GroupVersionKind::gvk(
            group(&object.api_version),
            version(&object.api_version),
            &object.kind,
        );
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
                    "discovery of {} {} failed, deriving its resource name: {error}",
                    object.api_version,
                    object.kind
                );
                Resource {
                    api: ApiResource::from_gvk(&gvk),
                    namespaced: !is_cluster_scoped(&object.api_version, &object.kind),
                }
            }
        }
    }

    /// The API of a built-in namespaced kind.
    fn api(&self, namespace: &str, group: &str, kind: &str) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
        Api::namespaced_with(self.client.clone(), namespace, &resource)
    }

    fn error(&self, object: &str, error: kube::Error) -> ClusterError {
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
        let owner = current.metadata.uid.as_deref().unwrap_or_default();
        let owned = ListParams::default().labels_from(&selector);
        let (label, hash) = match workload.kind {
            WorkloadKind::Deployment => {
                let replica_sets = self
                    .api(namespace, "apps", "ReplicaSet")
                    .list(&owned)
                    .await?;
                (
                    POD_TEMPLATE_HASH,
                    newest_replica_set_hash(&replica_sets.items, owner),
                )
            }
            WorkloadKind::StatefulSet => {
                (CONTROLLER_REVISION_HASH, states::update_revision(current))
            }
            WorkloadKind::DaemonSet => {
                let revisions = self
                    .api(namespace, "apps", "ControllerRevision")
                    .list(&owned)
                    .await?;
                (
                    CONTROLLER_REVISION_HASH,
                    newest_controller_revision_hash(&revisions.items, owner),
                )
            }
        };
        Ok(match hash {
            Some(hash) => with_label(selector, label, hash),
            None => selector,
        })
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
        let resource = self.resource(object).await;
        let body = object.body_in(resource.namespaced.then_some(namespace))?;
        let api: Api<DynamicObject> = if resource.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resource.api)
        } else {
            Api::all_with(self.client.clone(), &resource.api)
        };
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
        let object = workload.to_string();
        let current = self
            .api(namespace, "apps", workload.kind.as_str())
            .get(&workload.name)
            .await
            .map_err(|e| self.error(&object, e))?;
        let rollout = match workload.kind {
            WorkloadKind::Deployment => {
                deployment_rollout(&workload.name, &states::deployment(&current))
            }
            WorkloadKind::StatefulSet => {
                stateful_set_rollout(&workload.name, &states::stateful_set(&current))
            }
            WorkloadKind::DaemonSet => {
                daemon_set_rollout(&workload.name, &states::daemon_set(&current))
            }
        };
        if !matches!(rollout, Rollout::Progressing(_)) || !states::observed(&current) {
            return Ok(rollout);
        }
        let stuck = self
            .stuck_pod(namespace, workload, &current)
            .await
            .map_err(|e| self.error(&object, e))?;
        Ok(stuck.map_or(rollout, Rollout::Failed))
    }
}
