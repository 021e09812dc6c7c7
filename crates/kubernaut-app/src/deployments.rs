//! Deployments: create (render, check, store as pending for the worker; rollbacks pick the last
//! good release), cancel, read, wait for the end, list, delete.

use std::time::Duration;

use kubernaut_domain::{
    Action, AuditAction, ContextName, Deployment, DeploymentDetail, DeploymentStatus, Namespace,
    NewDeployment, Page, Paged, ReleaseDetail, ServiceName, Version, Visibility, rollback_excludes,
};
use kubernaut_store::{Cancellation, Deletion, DeploymentFilter, ServiceFilter, Store};
use std::sync::Arc;

use kubernaut_cluster::{
    ApplySet, Cluster, ClusterError, DryRun, DryRunAction, LiveObject, apply_order,
};
use tokio::time::Instant;
use uuid::Uuid;

use crate::caller::server_event;
use crate::error::not_found;
use crate::{App, AppError, Caller, Target, blocking, deploy};

/// What a dry run found.
#[derive(Debug, Clone)]
pub struct DryRunReport {
    /// The rendered manifest.
    pub manifest: String,
    /// Per object, what deploying would do, then what a prune would delete.
    pub objects: Vec<DryRun>,
}

/// A cluster's answer as the caller sees it: an object the API server refused is the request's
/// fault (400); a cluster that cannot be reached or answered oddly is a lost dependency (503).
fn cluster_error(error: ClusterError) -> AppError {
    match error {
        ClusterError::Rejected { code, .. } if (400..500).contains(&code) => {
            AppError::Invalid(error.to_string())
        }
        ClusterError::InvalidObject { .. } => AppError::Invalid(error.to_string()),
        ClusterError::ApplySet { .. } => AppError::Conflict(error.to_string()),
        _ => AppError::Unavailable(error.to_string()),
    }
}

/// How often a waiting request reads the deployment again when no signal wakes it.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// How a deployment request names its release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseLookup {
    /// By the release's id.
    Id(Uuid),
    /// By service, namespace and version.
    Version(ServiceName, Namespace, Version),
    /// A rollback: the last good release of the service in the context (see
    /// [`kubernaut_domain::rollback_excludes`]).
    LastGood(ServiceName, Namespace),
}

/// A validated request to deploy a release to a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRequest {
    /// The release.
    pub release: ReleaseLookup,
    /// The context to deploy to.
    pub context: ContextName,
    /// Whether a failure rolls the deployment back by itself.
    pub auto_rollback: bool,
    /// Whether objects of the service that the manifest no longer holds are deleted.
    pub prune: bool,
}

/// Who asks for a new deployment: a caller, or the server rolling a failed one back.
enum Requester<'a> {
    Caller(&'a Caller),
    AutoRollback { of: Uuid, created_by: String },
}

impl ReleaseLookup {
    fn find(
        &self,
        store: &Store,
        context: &ContextName,
        visible: &Visibility,
    ) -> Result<ReleaseDetail, AppError> {
        let found = match self {
            ReleaseLookup::Id(id) => store.release(*id)?,
            ReleaseLookup::Version(service, namespace, version) => {
                store.release_by_version(service, namespace, version)?
            }
            ReleaseLookup::LastGood(name, namespace) => {
                let filter = ServiceFilter {
                    name: Some(name.clone()),
                    namespace: Some(namespace.clone()),
                };
                let service = store
                    .services(&filter, visible, Page::default())?
                    .items
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        AppError::NotFound(format!(
                            "service {name} in namespace {namespace} does not exist"
                        ))
                    })?;
                return last_good(store, service.id, context)?.ok_or_else(|| {
                    AppError::Conflict(format!(
                        "there is nothing to roll back to: no earlier successful deployment of \
                         service {name} in namespace {namespace} to context {context} whose \
                         release still exists"
                    ))
                });
            }
        };
        found
            .filter(|d| visible.includes(d.release.service.namespace.as_str()))
            .ok_or_else(|| match self {
                ReleaseLookup::Id(id) => not_found("release", id),
                ReleaseLookup::Version(service, namespace, version) => AppError::NotFound(format!(
                    "release {version} of service {service} in namespace {namespace} does \
                         not exist"
                )),
                ReleaseLookup::LastGood(..) => not_found("release", "to roll back to"),
            })
    }
}

/// The release a rollback of the lane deploys, if there is one.
fn last_good(
    store: &Store,
    service_id: Uuid,
    context: &ContextName,
) -> Result<Option<ReleaseDetail>, AppError> {
    let excluding = rollback_excludes(store.newest_ended_deployment(service_id, context)?);
    match store.last_good_release(service_id, context, excluding)? {
        Some(release) => Ok(store.release(release)?),
        None => Ok(None),
    }
}

impl App {
    /// Renders the release for the context and stores the deployment as pending, with its
    /// first log line and its audit event; the worker runs it. A rollback deploys the lane's
    /// last good release, or is a conflict when there is none.
    pub async fn create_deployment(
        &self,
        caller: &Caller,
        request: DeploymentRequest,
    ) -> Result<DeploymentDetail, AppError> {
        let context = request.context;
        self.configured(&context)?;
        let rollback = matches!(request.release, ReleaseLookup::LastGood(..));
        let release = self
            .release_to_deploy(caller, request.release, &context)
            .await?;
        let (app, caller) = (self.clone(), caller.clone());
        let detail = blocking(move || {
            app.store_deployment(
                &Requester::Caller(&caller),
                &release,
                context,
                rollback,
                request.auto_rollback,
                request.prune,
            )
        })
        .await?;
        self.signals.stored();
        Ok(detail)
    }

    /// Refuses a context this server does not know, naming those it knows.
    fn configured(&self, context: &ContextName) -> Result<(), AppError> {
        if self.contexts.contains(context.as_str()) {
            return Ok(());
        }
        let known: Vec<String> = self.contexts.list().into_iter().map(|c| c.name).collect();
        Err(AppError::Invalid(format!(
            "context {context} is not configured on this server; known contexts: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )))
    }

    /// The release a request deploys, if the caller may read it and deploy it to `context`.
    async fn release_to_deploy(
        &self,
        caller: &Caller,
        lookup: ReleaseLookup,
        context: &ContextName,
    ) -> Result<ReleaseDetail, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        // A rollback names its namespace: a caller who may not deploy there learns nothing of
        // the lane (whether it has a release to roll back to) before the refusal.
        if let ReleaseLookup::LastGood(_, namespace) = &lookup
            && visible.includes(namespace.as_str())
        {
            let target = Target {
                resource_type: "deployment",
                resource_id: None,
                namespace: namespace.as_str(),
                context: Some(context.as_str()),
            };
            self.authorize(caller, Action::Deploy, target).await?;
        }
        let lane_context = context.clone();
        let release = blocking(move || lookup.find(&store, &lane_context, &visible)).await?;
        let target = Target {
            resource_type: "deployment",
            resource_id: None,
            namespace: release.release.service.namespace.as_str(),
            context: Some(context.as_str()),
        };
        self.authorize(caller, Action::Deploy, target).await?;
        Ok(release)
    }

    /// What deploying would do, storing and applying nothing: the rendered manifest and, per
    /// object, a server-side apply with `dryRun=All` (create, configure or unchanged, with a
    /// diff), then the objects a prune would delete.
    pub async fn dry_run_deployment(
        &self,
        caller: &Caller,
        request: DeploymentRequest,
    ) -> Result<DryRunReport, AppError> {
        let context = request.context;
        self.configured(&context)?;
        let release = self
            .release_to_deploy(caller, request.release, &context)
            .await?;
        let app = self.clone();
        let render_context = context.clone();
        let (manifest, mut objects) = blocking(move || {
            let template = app.templates.get(&release.source)?;
            let manifest = deploy::render(
                &release,
                &template,
                &render_context,
                app.allow_cluster_scoped,
            )?;
            let objects = deploy::objects(
                &manifest,
                &release.release.service.namespace,
                app.allow_cluster_scoped,
            )?;
            let set = ApplySet::for_service(
                &release.release.service.name,
                &release.release.service.namespace,
            );
            Ok((manifest.yaml, (objects, set)))
        })
        .await?;
        let (objects, set) = (&mut objects.0, objects.1);
        apply_order(objects);
        let cluster = self.cluster(&context).await?;
        let mut report = set
            .dry_run(cluster.as_ref(), objects)
            .await
            .map_err(cluster_error)?;
        if !request.prune {
            report.retain(|object| object.action != DryRunAction::Prune);
        }
        Ok(DryRunReport {
            manifest,
            objects: report,
        })
    }

    /// The members of a service's ApplySet in a context as the cluster has them now, each with
    /// its health, if the caller may read the service.
    pub async fn live_objects(
        &self,
        caller: &Caller,
        service_id: Uuid,
        context: &ContextName,
    ) -> Result<Vec<LiveObject>, AppError> {
        let service = self.service(caller, service_id).await?.service;
        self.configured(context)?;
        let cluster = self.cluster(context).await?;
        ApplySet::for_service(&service.name, &service.namespace)
            .live(cluster.as_ref())
            .await
            .map_err(cluster_error)
    }

    /// The cluster of a configured context.
    async fn cluster(&self, context: &ContextName) -> Result<Arc<dyn Cluster>, AppError> {
        self.contexts
            .cluster(context.as_str())
            .await
            .map_err(cluster_error)?
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "context {context} is not configured on this server"
                ))
            })
    }

    /// Rolls back a failed deployment that asked for it: deploys the lane's last good release,
    /// pruning as the failed one would have, and links the two; a log line on the failed
    /// deployment says what happened. Blocking.
    pub(crate) fn auto_rollback(
        &self,
        failed: Uuid,
        service_id: Uuid,
        context: &ContextName,
        created_by: &str,
        prune: bool,
    ) -> Result<Option<DeploymentDetail>, AppError> {
        let Some(release) = last_good(&self.store, service_id, context)? else {
            return Ok(None);
        };
        let requester = Requester::AutoRollback {
            of: failed,
            created_by: created_by.to_owned(),
        };
        let detail =
            self.store_deployment(&requester, &release, context.clone(), true, false, prune)?;
        self.signals.stored();
        Ok(Some(detail))
    }

    /// Renders `release` for `context` and stores the deployment with its audit event (and,
    /// for an automatic rollback, the link from the failed deployment). Blocking.
    fn store_deployment(
        &self,
        requester: &Requester<'_>,
        release: &ReleaseDetail,
        context: ContextName,
        rollback: bool,
        auto_rollback: bool,
        prune: bool,
    ) -> Result<DeploymentDetail, AppError> {
        let template = self.templates.get(&release.source)?;
        let manifest = deploy::render(release, &template, &context, self.allow_cluster_scoped)?;
        let release = &release.release;
        let (created_by, event) = match requester {
            Requester::Caller(caller) => (
                caller.name().to_owned(),
                caller.event(AuditAction::DeploymentCreate, "deployment"),
            ),
            Requester::AutoRollback { of, created_by } => (
                created_by.clone(),
                server_event(AuditAction::DeploymentCreate, "deployment")
                    .detail("autoRollbackOf", of.to_string()),
            ),
        };
        let event = event
            .namespace(&release.service.namespace)
            .context(&context)
            .detail("service", release.service.name.as_str())
            .detail("version", release.version.as_str())
            .detail("release", release.id.to_string())
            .detail("rollback", rollback)
            .build();
        let new = NewDeployment {
            release_id: release.id,
            context,
            manifest: manifest.yaml,
            created_by,
            rollback,
            auto_rollback,
            prune,
        };
        let what = match requester {
            Requester::Caller(_) if rollback => "a rollback requested by",
            Requester::Caller(_) => "requested by",
            Requester::AutoRollback { .. } => "an automatic rollback of a deployment by",
        };
        let first_line = format!(
            "rendered release {} of {} for context {}: {} object(s), {what} {}",
            release.version,
            release.service.name,
            new.context,
            manifest.documents.len(),
            new.created_by
        );
        let rolled_back = match requester {
            Requester::AutoRollback { of, .. } => Some(*of),
            Requester::Caller(_) => None,
        };
        Ok(self.store.transaction(|tx| {
            let detail = tx.create_deployment(&new, &first_line)?;
            let mut event = event.clone();
            event.resource_id = Some(detail.deployment.id.to_string());
            tx.append_audit(event)?;
            if let Some(failed) = rolled_back {
                tx.set_rolled_back_by(failed, detail.deployment.id)?;
            }
            Ok(detail)
        })?)
    }

    /// Cancels a deployment: a pending one at once, a running one before its next object or
    /// rollout check. Not found when unknown or not visible; a conflict when it ended.
    pub async fn cancel_deployment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<DeploymentDetail, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        let (namespace, context) = blocking(move || Ok(store.deployment_scope(id)?))
            .await?
            .filter(|(namespace, _)| visible.includes(namespace.as_str()))
            .ok_or_else(|| not_found("deployment", id))?;
        let target = Target {
            resource_type: "deployment",
            resource_id: Some(id.to_string()),
            namespace: namespace.as_str(),
            context: Some(context.as_str()),
        };
        self.authorize(caller, Action::Cancel, target).await?;
        let (store, caller2, context2) = (self.store.clone(), caller.clone(), context.clone());
        let cancellation = blocking(move || {
            Ok(store.transaction(|tx| {
                let cancellation = tx.cancel_deployment(id, caller2.name())?;
                if matches!(
                    cancellation,
                    Cancellation::Canceled | Cancellation::Requested(true)
                ) {
                    tx.append_audit(
                        caller2
                            .event(AuditAction::DeploymentCancel, "deployment")
                            .resource(id)
                            .namespace(&namespace)
                            .context(&context2)
                            .build(),
                    )?;
                }
                Ok(cancellation)
            })?)
        })
        .await?;
        match cancellation {
            Cancellation::Unknown => return Err(not_found("deployment", id)),
            Cancellation::Ended(status) => {
                return Err(AppError::Conflict(format!(
                    "deployment {id} already ended ({status}); there is nothing to cancel"
                )));
            }
            Cancellation::Canceled => {
                self.metrics
                    .deployment_counted(context.as_str(), DeploymentStatus::Canceled);
                self.signals.ended();
                self.signals.stored();
            }
            Cancellation::Requested(_) => {}
        }
        self.deployment(caller, id).await
    }

    /// The deployment with its manifest and log, if the caller may read it.
    pub async fn deployment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<DeploymentDetail, AppError> {
        self.visible_deployment(caller, id)
            .await?
            .ok_or_else(|| not_found("deployment", id))
    }

    async fn visible_deployment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Option<DeploymentDetail>, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || {
            Ok(store
                .deployment(id)?
                .filter(|d| visible.includes(d.deployment.namespace.as_str())))
        })
        .await
    }

    /// Reads the deployment until it ended or `wait` passed; its last state (`None` if it was
    /// deleted meanwhile). It is read again as soon as this server's worker ends a deployment,
    /// and every 200 ms for other servers' workers.
    pub async fn wait_for_end(
        &self,
        caller: &Caller,
        id: Uuid,
        wait: Duration,
    ) -> Result<Option<DeploymentDetail>, AppError> {
        let deadline = Instant::now() + wait;
        loop {
            let end_signal = self.signals.next_end();
            let current = self.visible_deployment(caller, id).await?;
            let ended = current
                .as_ref()
                .is_none_or(|d| d.deployment.status.is_terminal());
            if ended || Instant::now() >= deadline {
                return Ok(current);
            }
            let poll = WAIT_POLL.min(deadline.saturating_duration_since(Instant::now()));
            tokio::select! {
                () = end_signal => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Deployments the caller may read, newest first.
    pub async fn deployments(
        &self,
        caller: &Caller,
        filter: DeploymentFilter,
        page: Page,
    ) -> Result<Paged<Deployment>, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || Ok(store.deployments(&filter, &visible, page)?)).await
    }

    /// Soft-deletes a deployment (nothing is removed from the cluster): `Ok` also when it was
    /// deleted before; not found when unknown or not visible to the caller.
    pub async fn delete_deployment(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        let (namespace, context) = blocking(move || Ok(store.deployment_scope(id)?))
            .await?
            .filter(|(namespace, _)| visible.includes(namespace.as_str()))
            .ok_or_else(|| not_found("deployment", id))?;
        let target = Target {
            resource_type: "deployment",
            resource_id: Some(id.to_string()),
            namespace: namespace.as_str(),
            context: Some(context.as_str()),
        };
        self.authorize(caller, Action::DeleteDeployment, target)
            .await?;
        let (store, caller) = (self.store.clone(), caller.clone());
        blocking(move || {
            store.transaction(|tx| {
                if tx.delete_deployment(id, caller.name())? == Deletion::Done {
                    tx.append_audit(
                        caller
                            .event(AuditAction::DeploymentDelete, "deployment")
                            .resource(id)
                            .namespace(&namespace)
                            .context(&context)
                            .build(),
                    )?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
    }
}
