//! Kubernaut's shared operations: what every front end (the JSON API, the web UI) does through
//! one [`App`]. Each operation takes the [`Caller`], checks its grants, and records its change
//! with an audit event in the same transaction, so that a front end cannot forget either; the
//! front ends only parse, call and present.
//!
//! The deployment worker, which runs what the operations store, lives here too ([`deploy`]).
//! Operations are async and run the store's blocking diesel calls on the blocking thread pool.

mod audit;
mod auth;
mod caller;
pub mod deploy;
mod deployments;
mod error;
mod metrics;
mod notifications;
pub mod notify;
mod releases;
mod services;
mod sessions;
mod templates;
mod tokens;

use std::sync::Arc;

use kubernaut_cluster::Contexts;
use kubernaut_domain::{Action, AuditAction, Denial};
use kubernaut_store::Store;

pub use kubernaut_cluster::ContextInfo;
pub use kubernaut_store::{
    AttemptRecord, AuditFilter, DeploymentFilter, Lane, LaneFilter, Outcome, ReleaseFilter,
    ServiceDetail, ServiceFilter, ServiceLanes, TokenFilter,
};

pub use crate::audit::AuditVerification;
pub use crate::auth::{AuthOptions, Authenticator, TOKEN_CACHE_TTL};
pub use crate::caller::{Caller, Principal};
pub use crate::deployments::{DeploymentRequest, DryRunReport, ReleaseLookup};
pub use crate::error::AppError;
pub use crate::metrics::Metrics;
pub use crate::releases::StoredRelease;
pub use crate::sessions::{NewSession, SESSION_TTL};
pub use crate::templates::TemplateCache;
pub use crate::tokens::CreatedToken;
pub use kubernaut_cluster::{DryRun, DryRunAction, LiveObject};

use crate::deploy::Signals;
use crate::notify::Webhooks;

/// The shared operations and what they need. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    store: Store,
    contexts: Arc<Contexts>,
    allow_cluster_scoped: bool,
    signals: Arc<Signals>,
    templates: Arc<TemplateCache>,
    auth: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    webhooks: Arc<Webhooks>,
}

impl App {
    /// The operations on `store`, deploying to `contexts`.
    pub fn new(store: Store, contexts: Arc<Contexts>, auth: &AuthOptions) -> Self {
        Self {
            store,
            contexts,
            allow_cluster_scoped: false,
            signals: Arc::new(Signals::default()),
            templates: Arc::new(TemplateCache::default()),
            auth: Arc::new(Authenticator::new(auth)),
            metrics: Arc::new(Metrics::default()),
            webhooks: Arc::new(Webhooks::default()),
        }
    }

    /// Notifies `webhooks` of deployment events: the store writes their deliveries with each
    /// change, and [`notify::Sender`] posts them.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        let webhooks = Arc::new(webhooks);
        self.store = self.store.with_subscribers(webhooks.clone());
        self.webhooks = webhooks;
        self
    }

    /// The configured webhooks.
    pub fn webhooks(&self) -> Arc<Webhooks> {
        self.webhooks.clone()
    }

    /// Allows (or not) cluster-scoped kinds in manifests.
    pub fn allow_cluster_scoped(mut self, allow: bool) -> Self {
        self.allow_cluster_scoped = allow;
        self
    }

    /// The signals this server's worker shares with the operations.
    pub fn signals(&self) -> Arc<Signals> {
        self.signals.clone()
    }

    /// This server's metrics, which front ends add their requests to.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// The metrics in the OpenMetrics text format, with the gauges read now (the queue length
    /// only while the database answers).
    pub async fn metrics_text(&self) -> Result<String, AppError> {
        let store = self.store.clone();
        // Without the database the other series still matter most: keep the last queue length.
        let read = blocking(move || {
            Ok((
                store.pending_deployments().ok(),
                store.pending_notifications().ok(),
                store.pool_state(),
            ))
        });
        let (queued, notifications, (idle, used)) = read.await?;
        self.metrics.set_gauges(queued, notifications, idle, used);
        self.metrics
            .encode()
            .map_err(|e| AppError::Internal(format!("cannot encode the metrics: {e}")))
    }

    /// The store, for the worker and for health checks.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The contexts deployments can target.
    pub fn contexts(&self) -> &Arc<Contexts> {
        &self.contexts
    }

    /// The caller presenting this `Authorization` header value from `remote_addr`:
    /// [`AppError::Unauthenticated`] without a valid token, [`AppError::Throttled`] after too
    /// many failures from that address.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        remote_addr: Option<String>,
        request_id: Option<String>,
    ) -> Result<Caller, AppError> {
        let principal = self
            .auth
            .authenticate(&self.store, authorization, remote_addr.as_deref())
            .await
            .inspect_err(|error| {
                if matches!(error, AppError::Unauthenticated(_) | AppError::Throttled(_)) {
                    self.metrics.auth_failed();
                }
            })?;
        Ok(Caller {
            principal,
            remote_addr,
            request_id,
        })
    }

    /// Whether the database answers within `timeout`.
    pub async fn ping(&self, timeout: std::time::Duration) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.ping(timeout)?)).await
    }

    /// Checks that the caller may do `action`; if not, records the refusal and returns the
    /// 403 naming what is missing.
    async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        target: Target<'_>,
    ) -> Result<(), AppError> {
        if caller
            .grants()
            .allows(action, target.namespace, target.context)
        {
            return Ok(());
        }
        let denial = Denial {
            token: caller.name().to_owned(),
            action,
            namespace: target.namespace.to_owned(),
            context: target.context.map(str::to_owned),
        };
        Err(self
            .deny(
                caller,
                denial.to_string(),
                target.resource_type,
                target.resource_id,
                Some(target.namespace),
                target.context,
            )
            .await)
    }

    /// Checks that the caller is a global admin, who alone manages tokens and reads the audit
    /// log; if not, records the refusal and returns the 403.
    async fn require_global_admin(
        &self,
        caller: &Caller,
        what: &str,
        resource_type: &'static str,
    ) -> Result<(), AppError> {
        if caller.grants().is_global_admin() {
            return Ok(());
        }
        let message = format!(
            "token {:?} may not {what}: only a global admin (role admin on namespace * and \
             context *) may",
            caller.name()
        );
        Err(self
            .deny(caller, message, resource_type, None, None, None)
            .await)
    }

    /// Appends `access.denied` and returns [`AppError::Forbidden`] with `message` (or why the
    /// refusal could not be recorded).
    async fn deny(
        &self,
        caller: &Caller,
        message: String,
        resource_type: &'static str,
        resource_id: Option<String>,
        namespace: Option<&str>,
        context: Option<&str>,
    ) -> AppError {
        let mut event = caller
            .event(AuditAction::AccessDenied, resource_type)
            .detail("message", message.clone());
        if let Some(id) = resource_id {
            event = event.resource(id);
        }
        if let Some(namespace) = namespace {
            event = event.namespace(namespace);
        }
        if let Some(context) = context {
            event = event.context(context);
        }
        let event = event.build();
        let store = self.store.clone();
        match blocking(move || Ok(store.transaction(|tx| tx.append_audit(event.clone()))?)).await {
            Ok(_) => AppError::Forbidden(message),
            Err(error) => error,
        }
    }
}

/// What an action is on, for its permission check and the refusal's audit event.
struct Target<'a> {
    resource_type: &'static str,
    resource_id: Option<String>,
    namespace: &'a str,
    context: Option<&'a str>,
}

/// Runs blocking work (diesel) on the blocking thread pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("a blocking task failed: {e}")))?
}
