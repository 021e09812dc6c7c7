//! Running one claimed deployment: apply its objects in order, then watch its workloads until
//! they rolled out, failed, or the rollout timeout passed, recording every step.

use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeSet;

use kubernaut_cluster::{ApplySet, Cluster, ClusterError, Object, Workload, apply_order};
use kubernaut_domain::GroupKind;
use kubernaut_domain::{DeploymentStatus, Rollout, Stream};
use kubernaut_store::{Claim, Progress, Store, StoreError};
use kubernaut_template::Manifest;
use tokio::time::Instant;

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

/// Applies and watches the claimed deployment; `Ok` once it succeeded (recorded by the
/// caller).
pub(crate) async fn run(
    recorder: &Recorder,
    cluster: Arc<dyn Cluster>,
    options: &WorkerOptions,
) -> Result<String, Stop> {
    let claim = &recorder.claim;
    let manifest = Manifest::parse(claim.manifest.clone(), claim.namespace.as_str())
        .map_err(|e| Stop::Failed(format!("the stored manifest is invalid: {e}")))?;
    let mut objects = objects(&manifest, &claim.namespace, options.allow_cluster_scoped)
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
    for workload in &workloads {
        watch(recorder, cluster.as_ref(), workload, options).await?;
    }
    let pruned = if claim.prune {
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

/// Polls a workload's rollout until it is done, failed, or the rollout timeout passed; logs each
/// new reason it is still progressing.
async fn watch(
    recorder: &Recorder,
    cluster: &dyn Cluster,
    workload: &Workload,
    options: &WorkerOptions,
) -> Result<(), Stop> {
    let namespace = recorder.claim.namespace.as_str();
    let deadline = Instant::now() + options.rollout_timeout;
    let mut last_reason = String::new();
    loop {
        recorder.check_cancel().await?;
        let rollout = cluster.rollout(namespace, workload).await;
        recorder
            .metrics
            .cluster_request(recorder.claim.context.as_str(), "rollout", &rollout);
        let reason = match rollout {
            Ok(Rollout::Done) => {
                return recorder
                    .line(Stream::Stdout, format!("{workload} rolled out"))
                    .await;
            }
            Ok(Rollout::Failed(reason)) => {
                return Err(Stop::Failed(format!(
                    "{workload} failed to roll out: {reason}"
                )));
            }
            Ok(Rollout::Progressing(reason)) => reason,
            Err(error) => format!("cannot read the rollout status: {error}"),
        };
        if reason != last_reason {
            recorder.line(Stream::Stdout, reason.clone()).await?;
            last_reason = reason;
        }
        if Instant::now() >= deadline {
            return Err(Stop::Failed(format!(
                "{workload} did not roll out within {:?}: {last_reason}",
                options.rollout_timeout
            )));
        }
        tokio::time::sleep(
            options
                .rollout_poll
                .min(deadline.saturating_duration_since(Instant::now())),
        )
        .await;
    }
}
