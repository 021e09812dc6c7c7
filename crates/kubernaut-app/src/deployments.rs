//! Deployments: create (render, check, store as pending for the worker), read, wait for the
//! end, list, delete.

use std::time::Duration;

use kubernaut_domain::{
    Action, AuditAction, ContextName, Deployment, DeploymentDetail, Namespace, NewDeployment, Page,
    Paged, ReleaseDetail, ServiceName, Version,
};
use kubernaut_store::{Deletion, DeploymentFilter, Store};
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::not_found;
use crate::{App, AppError, Caller, Target, blocking, deploy};

/// How often a waiting request reads the deployment again when no signal wakes it.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// How a deployment request names its release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseLookup {
    /// By the release's id.
    Id(Uuid),
    /// By service, namespace and version.
    Version(ServiceName, Namespace, Version),
}

/// A validated request to deploy a release to a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRequest {
    /// The release.
    pub release: ReleaseLookup,
    /// The context to deploy to.
    pub context: ContextName,
}

impl ReleaseLookup {
    fn find(&self, store: &Store) -> Result<Option<ReleaseDetail>, AppError> {
        Ok(match self {
            ReleaseLookup::Id(id) => store.release(*id)?,
            ReleaseLookup::Version(service, namespace, version) => {
                store.release_by_version(service, namespace, version)?
            }
        })
    }

    fn not_found(&self) -> AppError {
        match self {
            ReleaseLookup::Id(id) => not_found("release", id),
            ReleaseLookup::Version(service, namespace, version) => AppError::NotFound(format!(
                "release {version} of service {service} in namespace {namespace} does not exist"
            )),
        }
    }
}

impl App {
    /// Renders the release for the context and stores the deployment as pending, with its
    /// first log line and its audit event; the worker runs it.
    pub async fn create_deployment(
        &self,
        caller: &Caller,
        request: DeploymentRequest,
    ) -> Result<DeploymentDetail, AppError> {
        let context = request.context;
        if !self.contexts.contains(context.as_str()) {
            let known: Vec<String> = self.contexts.list().into_iter().map(|c| c.name).collect();
            return Err(AppError::Invalid(format!(
                "context {context} is not configured on this server; known contexts: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        }
        let store = self.store.clone();
        let lookup = request.release;
        let visible = caller.grants().visible_namespaces();
        let release = blocking(move || {
            lookup
                .find(&store)?
                .filter(|d| visible.includes(d.release.service.namespace.as_str()))
                .ok_or_else(|| lookup.not_found())
        })
        .await?;
        let target = Target {
            resource_type: "deployment",
            resource_id: None,
            namespace: release.release.service.namespace.as_str(),
            context: Some(context.as_str()),
        };
        self.authorize(caller, Action::Deploy, target).await?;

        let (app, caller) = (self.clone(), caller.clone());
        let detail = blocking(move || {
            let template = app.templates.get(&release.source)?;
            let manifest = deploy::render(&release, &template, &context, app.allow_cluster_scoped)?;
            let release = release.release;
            let new = NewDeployment {
                release_id: release.id,
                context,
                manifest: manifest.yaml,
                created_by: caller.name().to_owned(),
            };
            let first_line = format!(
                "rendered release {} of {} for context {}: {} object(s), requested by {}",
                release.version,
                release.service.name,
                new.context,
                manifest.documents.len(),
                caller.name()
            );
            Ok(app.store.transaction(|tx| {
                let detail = tx.create_deployment(&new, &first_line)?;
                tx.append_audit(
                    caller
                        .event(AuditAction::DeploymentCreate, "deployment")
                        .resource(detail.deployment.id)
                        .namespace(&release.service.namespace)
                        .context(&new.context)
                        .detail("service", release.service.name.as_str())
                        .detail("version", release.version.as_str())
                        .detail("release", release.id.to_string())
                        .build(),
                )?;
                Ok(detail)
            })?)
        })
        .await?;
        self.signals.stored();
        Ok(detail)
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
