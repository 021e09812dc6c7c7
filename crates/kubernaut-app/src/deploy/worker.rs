//! The deployment worker: claims deployments from the store and runs them, renewing its claims
//! while they run. Several workers (server replicas) can share one database.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kubernaut_cluster::Contexts;
use kubernaut_domain::{DeploymentStatus, Stream};
use kubernaut_store::{Claim, Progress, Store};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::App;
use crate::deploy::Signals;
use crate::deploy::run::{Recorder, Shared, Stop, run};
use crate::deploy::slots::{Slot, Slots};
use crate::deploy::watch::{Cancels, Rollouts};
use crate::metrics::Metrics;

/// How a worker runs deployments.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often the store is asked for deployments when nothing wakes the worker.
    pub poll_interval: Duration,
    /// How long a claim holds unless renewed; a deployment whose worker died is resumed once
    /// its claim lapsed.
    pub lease: Duration,
    /// How long workloads may take to roll out before the deployment fails.
    pub rollout_timeout: Duration,
    /// How often the rollouts being waited on (and cancel requests) are read.
    pub rollout_poll: Duration,
    /// The most deployments applying (or pruning) at once; any number may wait for their
    /// rollouts besides.
    pub max_parallel: usize,
    /// Whether cluster-scoped kinds may be applied.
    pub allow_cluster_scoped: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            rollout_timeout: Duration::from_secs(300),
            rollout_poll: Duration::from_secs(2),
            max_parallel: 8,
            allow_cluster_scoped: false,
        }
    }
}

/// Claims deployments from the store and runs them.
#[derive(Debug, Clone)]
pub struct Worker {
    id: String,
    store: Store,
    contexts: Arc<Contexts>,
    options: WorkerOptions,
    signals: Arc<Signals>,
    metrics: Arc<Metrics>,
    app: App,
    slots: Slots,
    rollouts: Rollouts,
    cancels: Cancels,
}

impl Worker {
    /// A worker with a fresh id for the deployments `app` stores: it shares the app's store,
    /// contexts and metrics, and its signals, which let a new deployment start without waiting
    /// for the next poll and let waiting requests learn at once that one ended.
    pub fn new(app: &App, options: WorkerOptions) -> Self {
        let suffix = Uuid::new_v4().simple().to_string();
        Self {
            id: format!("{}-{}", std::process::id(), &suffix[..8]),
            store: app.store().clone(),
            contexts: app.contexts().clone(),
            signals: app.signals(),
            metrics: app.metrics(),
            app: app.clone(),
            slots: Slots::new(options.max_parallel),
            rollouts: Rollouts::new(options.rollout_poll, app.metrics()),
            cancels: Cancels::new(),
            options,
        }
    }

    /// The id the worker claims deployments under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs deployments until `shutdown` completes; then stops the running ones and lets their
    /// claims lapse at once, so that the next worker resumes them.
    ///
    /// A deployment is claimed only into a free slot, and holds it while it applies; it frees
    /// it to wait for its rollouts, so that a slow rollout never keeps another lane waiting.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        log::info!("deployment worker {} started", self.id);
        let mut running = JoinSet::new();
        let mut renew = tokio::time::interval(self.options.lease / 3);
        let mut cancels = tokio::time::interval(self.options.rollout_poll);
        cancels.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            let mut slots = self.slots.take_free();
            if !slots.is_empty() {
                for claim in self.claim(slots.len()).await {
                    let slot = slots.pop().expect("one slot per claim");
                    running.spawn(self.clone().execute(claim, slot));
                }
            }
            drop(slots);
            tokio::select! {
                () = &mut shutdown => break,
                () = self.signals.wait_stored() => {}
                () = self.slots.freed() => {}
                () = tokio::time::sleep(self.options.poll_interval) => {}
                _ = renew.tick() => self.renew().await,
                _ = cancels.tick() => {
                    if self.cancels.watched() {
                        self.cancels.refresh(&self.store, &self.id).await;
                    }
                }
                Some(_) = running.join_next() => {}
            }
        }
        running.shutdown().await;
        let store = self.store.clone();
        let id = self.id.clone();
        match tokio::task::spawn_blocking(move || store.release_claims(&id)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(released)) => log::info!("released {released} unfinished deployment(s)"),
            Ok(Err(error)) => log::warn!("cannot release claims: {error}"),
            Err(error) => log::warn!("cannot release claims: {error}"),
        }
        log::info!("deployment worker {} stopped", self.id);
    }

    async fn claim(&self, max: usize) -> Vec<Claim> {
        let store = self.store.clone();
        let (id, lease) = (self.id.clone(), self.options.lease);
        match tokio::task::spawn_blocking(move || store.claim_deployments(&id, lease, max)).await {
            Ok(Ok(claims)) => claims,
            Ok(Err(error)) => {
                log::warn!("cannot claim deployments: {error}");
                Vec::new()
            }
            Err(error) => {
                log::error!("claiming deployments panicked: {error}");
                Vec::new()
            }
        }
    }

    async fn renew(&self) {
        let store = self.store.clone();
        let (id, lease) = (self.id.clone(), self.options.lease);
        if let Ok(Err(error)) =
            tokio::task::spawn_blocking(move || store.renew_claims(&id, lease)).await
        {
            log::warn!("cannot renew claims: {error}");
        }
    }

    /// Rolls back a failed deployment that asked for it, noting the outcome in its log.
    async fn roll_back(&self, recorder: &Recorder) {
        let claim = recorder.claim.clone();
        let app = self.app.clone();
        let created = tokio::task::spawn_blocking(move || {
            app.auto_rollback(
                claim.id,
                claim.service_id,
                &claim.context,
                &claim.created_by,
                claim.prune,
            )
        })
        .await;
        let line = match created {
            Ok(Ok(Some(rollback))) => format!(
                "rolled back by deployment {} of release {}",
                rollback.deployment.id, rollback.deployment.release.version
            ),
            Ok(Ok(None)) => "not rolled back: no earlier successful deployment to this context \
                             whose release still exists"
                .to_owned(),
            Ok(Err(error)) => format!("cannot roll back: {error}"),
            Err(error) => format!("cannot roll back: {error}"),
        };
        let store = self.store.clone();
        let id = recorder.claim.id;
        let appended =
            tokio::task::spawn_blocking(move || store.append_log(id, &[(Stream::Stderr, line)]))
                .await;
        if !matches!(appended, Ok(Ok(()))) {
            log::warn!("deployment {id}: cannot log its rollback");
        }
    }

    /// Runs one claimed deployment to its end and records how it ended.
    async fn execute(self, claim: Claim, slot: Slot) {
        let id = claim.id;
        log::info!("deployment {id}: starting (attempt {})", claim.attempt);
        let context = claim.context.clone();
        let started = std::time::Instant::now();
        self.metrics.deployment_started();
        let recorder = Recorder {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            worker: self.id.clone(),
            claim,
            lease: self.options.lease,
        };
        let outcome = match self.contexts.cluster(context.as_str()).await {
            Ok(Some(cluster)) => {
                let shared = Shared {
                    options: &self.options,
                    slots: &self.slots,
                    rollouts: &self.rollouts,
                    cancels: &self.cancels,
                };
                run(&recorder, cluster, &shared, slot).await
            }
            Ok(None) => Err(Stop::Failed(format!(
                "context {context} is not configured on this kubernaut-server"
            ))),
            Err(error) => Err(Stop::Failed(error.to_string())),
        };
        let end = match outcome {
            Ok(summary) => Progress {
                status: Some(DeploymentStatus::Succeeded),
                error: None,
                lines: vec![(Stream::Stdout, summary)],
            },
            Err(Stop::Failed(error)) => Progress {
                status: Some(DeploymentStatus::Failed),
                lines: vec![(Stream::Stderr, error.clone())],
                error: Some(error),
            },
            Err(Stop::Canceled(by)) => Progress {
                status: Some(DeploymentStatus::Canceled),
                lines: vec![(
                    Stream::Stderr,
                    format!("canceled by {by}; the objects applied before stay"),
                )],
                error: None,
            },
            Err(Stop::Abandoned(reason)) => {
                log::warn!("deployment {id}: abandoned: {reason}");
                self.metrics.deployment_ended(context.as_str(), None, None);
                return;
            }
        };
        let status = end.status;
        match recorder.record(end).await {
            Ok(()) => {
                self.metrics
                    .deployment_ended(context.as_str(), status, Some(started.elapsed()));
                if status == Some(DeploymentStatus::Failed) && recorder.claim.auto_rollback {
                    self.roll_back(&recorder).await;
                }
                self.signals.ended();
                log::info!("deployment {id}: {}", status.map_or("", |s| s.as_str()));
            }
            Err(Stop::Abandoned(reason) | Stop::Failed(reason) | Stop::Canceled(reason)) => {
                self.metrics.deployment_ended(context.as_str(), None, None);
                log::warn!("deployment {id}: cannot record its end: {reason}");
            }
        }
    }
}
