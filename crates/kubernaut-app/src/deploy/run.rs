//! Running one claimed deployment: apply its objects in order (holding one of the worker's
//! slots), then watch its workloads until they rolled out, failed, or the rollout timeout passed
//! (holding none), recording every step.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kubernaut_cluster::{ApplySet, Cluster, ClusterError, Object, Workload, apply_order};
use kubernaut_domain::GroupKind;
use kubernaut_domain::{DeploymentStatus, Rollout, Stream};
use kubernaut_store::{Claim, Progress, Store, StoreError};
use kubernaut_template::Manifest;
use tokio::time::Instant;

use crate::deploy::slots::{Slot, Slots};
use crate::deploy::watch::{Cancels, Rollouts};
use crate::deploy::{WorkerOptions, objects};
use crate::metrics::Metrics;

/// Why a run stopped before its deployment succeeded.
pub(crate) enum Stop {
    /// The deployment failed; the message says which object and why.
    Failed(String),
    /// The store could not be written, or another worker holds the deployment now: give it up
    /// and let its claim lapse.
    Abandoned(String),
    /// Someone (named) asked to cancel it.
    Canceled(String),
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Stop::Abandoned(error.to_string())
    }
}

/// Writes a claimed deployment's progress to the store.
pub(crate) struct Recorder {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub worker: String,
    pub claim: Claim,
    pub lease: Duration,
}

impl Recorder {
    /// Records `progress`; a claim lost to another worker stops the run.
    pub(crate) async fn record(&self, progress: Progress) -> Result<(), Stop> {
        let store = self.store.clone();
        let worker = self.worker.clone();
        let (id, lease) = (self.claim.id, self.lease);
        let held = tokio::task::spawn_blocking(move || {
            store.record_progress(id, &worker, lease, &progress)
        })
        .await
        .map_err(|e| Stop::Abandoned(e.to_string()))??;
        if held {
            Ok(())
        } else {
            Err(Stop::Abandoned(format!(
                "deployment {id} is no longer held by worker {}",
                self.worker
            )))
        }
    }

    /// Stops the run if someone asked to cancel the deployment.
    pub(crate) async fn check_cancel(&self) -> Result<(), Stop> {
        let store = self.store.clone();
        let id = self.claim.id;
        let asked = tokio::task::spawn_blocking(move || store.cancel_requested_by(id))
            .await
            .map_err(|e| Stop::Abandoned(e.to_string()))??;
        match asked {
            Some(by) => Err(Stop::Canceled(by)),
            None => Ok(()),
        }
    }

    /// Appends one line to the log.
    pub(crate) async fn line(&self, stream: Stream, content: String) -> Result<(), Stop> {
        self.record(Progress {
            lines: vec![(stream, content)],
            ..Progress::default()
        })
        .await
    }
}

/// What a run shares with the other runs of its worker.
pub(crate) struct Shared<'a> {
    pub options: &'a WorkerOptions,
    pub slots: &'a Slots,
    pub rollouts: &'a Rollouts,
    pub cancels: &'a Cancels,
}

/// Applies the claimed deployment in `slot`, frees the slot, and watches its rollouts (taking
/// a slot again to prune); `Ok` once it succeeded (recorded by the caller).
pub(crate) async fn run(
    recorder: &Recorder,
    cluster: Arc<dyn Cluster>,
    shared: &Shared<'_>,
    slot: Slot,
) -> Result<String, Stop> {
    let claim = &recorder.claim;
    let manifest = Manifest::parse(claim.manifest.clone(), claim.namespace.as_str())
        .map_err(|e| Stop::Failed(format!("the stored manifest is invalid: {e}")))?;
    let mut objects = objects(
        &manifest,
        &claim.namespace,
        shared.options.allow_cluster_scoped,
    )
    .map_err(|e| Stop::Failed(e.to_string()))?;
    apply_order(&mut objects);

    // The service's objects in this context form an ApplySet: label them, and let the parent
    // list their kinds before anything is applied, so that a later prune finds them.
    let set = ApplySet::for_service(&claim.service, &claim.namespace);
    recorder.check_cancel().await?;
    let kinds = set
        .prepare(cluster.as_ref(), &mut objects)
        .await
        .map_err(|e| Stop::Failed(e.to_string()))?;

    let namespace = claim.namespace.as_str();
    for object in &objects {
        recorder.check_cancel().await?;
        let applied = cluster.apply(namespace, object).await;
        recorder
            .metrics
            .cluster_request(claim.context.as_str(), "apply", &applied);
        let applied = applied.map_err(|e| Stop::Failed(e.to_string()))?;
        recorder
            .line(
                Stream::Stdout,
                format!("{} {applied}", object.display_name()),
            )
            .await?;
    }

    let workloads: Vec<Workload> = objects.iter().filter_map(|o| o.workload()).collect();
    recorder
        .record(Progress {
            status: Some(DeploymentStatus::RollingOut),
            lines: vec![(
                Stream::Stdout,
                format!(
                    "applied {} object(s); waiting for {} workload(s) to roll out",
                    objects.len(),
                    workloads.len()
                ),
            )],
            ..Progress::default()
        })
        .await?;
    slot.free();
    watch(recorder, &cluster, &workloads, shared).await?;
    let pruned = if claim.prune {
        let _slot = shared.slots.take().await;
        prune(recorder, cluster.as_ref(), &set, &kinds, &objects).await?
    } else {
        0
    };
    Ok(format!(
        "succeeded: {} object(s) applied, {} workload(s) rolled out, {pruned} pruned",
        objects.len(),
        workloads.len()
    ))
}

/// Deletes the members of the service's ApplySet that the manifest no longer holds, one log
/// line each, then narrows the parent to the manifest's kinds; how many it deleted.
async fn prune(
    recorder: &Recorder,
    cluster: &dyn Cluster,
    set: &ApplySet,
    kinds: &BTreeSet<GroupKind>,
    objects: &[Object],
) -> Result<usize, Stop> {
    let failed = |e: ClusterError| Stop::Failed(format!("cannot prune: {e}"));
    let members = set
        .prunable_members(cluster, kinds, objects)
        .await
        .map_err(failed)?;
    for member in &members {
        recorder.check_cancel().await?;
        let deleted = cluster.delete(set.namespace(), &member.object_ref()).await;
        recorder
            .metrics
            .cluster_request(recorder.claim.context.as_str(), "delete", &deleted);
        deleted.map_err(failed)?;
        recorder
            .line(Stream::Stdout, format!("{} pruned", member.display_name()))
            .await?;
    }
    set.commit(cluster, objects).await.map_err(failed)?;
    Ok(members.len())
}

/// Waits until every workload rolled out, one failed, the rollout timeout passed, or someone
/// asked to cancel; logs each new reason a workload is still progressing. The first reading is
/// the deployment's own, so that a quick rollout ends at once; then it waits on the worker's
/// shared watch of the namespace, read once per poll for every deployment waiting there.
async fn watch(
    recorder: &Recorder,
    cluster: &Arc<dyn Cluster>,
    workloads: &[Workload],
    shared: &Shared<'_>,
) -> Result<(), Stop> {
    let claim = &recorder.claim;
    let timeout = shared.options.rollout_timeout;
    let deadline = Instant::now() + timeout;
    let mut waiting = workloads.to_vec();
    let mut reasons: HashMap<Workload, String> = HashMap::new();
    recorder.check_cancel().await?;
    let readings = cluster.rollouts(claim.namespace.as_str(), &waiting).await;
    recorder
        .metrics
        .rollouts_read(claim.context.as_str(), &readings);
    let mut readings = Arc::new(readings);
    let mut subscription = None;
    loop {
        let mut still = Vec::with_capacity(waiting.len());
        for (workload, reading) in waiting.iter().zip(readings.iter()) {
            let reason = match reading {
                Ok(Rollout::Done) => {
                    recorder
                        .line(Stream::Stdout, format!("{workload} rolled out"))
                        .await?;
                    continue;
                }
                Ok(Rollout::Failed(reason)) => {
                    return Err(Stop::Failed(format!(
                        "{workload} failed to roll out: {reason}"
                    )));
                }
                Ok(Rollout::Progressing(reason)) => reason.clone(),
                Err(error) => format!("cannot read the rollout status: {error}"),
            };
            if reasons.get(workload) != Some(&reason) {
                recorder.line(Stream::Stdout, reason.clone()).await?;
                reasons.insert(workload.clone(), reason);
            }
            still.push(workload.clone());
        }
        if still.is_empty() {
            return Ok(());
        }
        if still != waiting || subscription.is_none() {
            subscription = Some(shared.rollouts.subscribe(
                claim.context.as_str(),
                cluster.clone(),
                claim.namespace.as_str(),
                still.clone(),
            ));
            waiting = still;
        }
        let subscription = subscription.as_mut().expect("subscribed above");
        tokio::select! {
            next = subscription.next() => readings = next,
            () = tokio::time::sleep_until(deadline) => {
                let workload = &waiting[0];
                return Err(Stop::Failed(format!(
                    "{workload} did not roll out within {timeout:?}: {}",
                    reasons.get(workload).map_or("", String::as_str)
                )));
            }
            by = shared.cancels.requested(claim.id) => return Err(Stop::Canceled(by)),
        }
    }
}
