//! Watching rollouts for every deployment of a worker at once: the workloads waited on in one
//! (context, namespace) are read together once per poll ([`Cluster::rollouts`]), however many
//! deployments wait on them, and cancel requests are read once per poll for all of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kubernaut_cluster::{Cluster, ClusterError, Rollout, Workload};
use kubernaut_store::Store;
use tokio::sync::watch;
use uuid::Uuid;

use crate::metrics::Metrics;

/// The readings of a subscription's workloads, in its order.
pub(crate) type Readings = Arc<Vec<Result<Rollout, ClusterError>>>;

/// Which workloads of a namespace of a context are watched.
type PairKey = (String, String);

/// The rollout watch of one worker, shared by its deployments.
#[derive(Debug, Clone)]
pub(crate) struct Rollouts {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    poll: Duration,
    metrics: Arc<Metrics>,
    pairs: Mutex<HashMap<PairKey, Pair>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// The watched workloads of one (context, namespace), with the task that reads them.
#[derive(Debug)]
struct Pair {
    cluster: Arc<dyn Cluster>,
    subscribers: HashMap<u64, Subscriber>,
}

#[derive(Debug)]
struct Subscriber {
    workloads: Vec<Workload>,
    readings: watch::Sender<Option<Readings>>,
}

/// A deployment's interest in its workloads' rollouts; dropping it ends the interest.
#[derive(Debug)]
pub(crate) struct Subscription {
    shared: Arc<Shared>,
    key: PairKey,
    id: u64,
    readings: watch::Receiver<Option<Readings>>,
}

impl Rollouts {
    /// A watch that reads each watched namespace every `poll`.
    pub(crate) fn new(poll: Duration, metrics: Arc<Metrics>) -> Self {
        Self {
            shared: Arc::new(Shared {
                poll,
                metrics,
                pairs: Mutex::default(),
                next_id: 0.into(),
            }),
        }
    }

    /// Subscribes to the rollouts of `workloads` in `namespace` of `context`, whose cluster is
    /// `cluster`; the first readings come within one poll.
    pub(crate) fn subscribe(
        &self,
        context: &str,
        cluster: Arc<dyn Cluster>,
        namespace: &str,
        workloads: Vec<Workload>,
    ) -> Subscription {
        let key = (context.to_owned(), namespace.to_owned());
        let id = self
            .shared
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (sender, receiver) = watch::channel(None);
        let subscriber = Subscriber {
            workloads,
            readings: sender,
        };
        let mut pairs = self.shared.pairs();
        match pairs.get_mut(&key) {
            Some(pair) => {
                pair.subscribers.insert(id, subscriber);
            }
            None => {
                pairs.insert(
                    key.clone(),
                    Pair {
                        cluster,
                        subscribers: HashMap::from([(id, subscriber)]),
                    },
                );
                tokio::spawn(self.shared.clone().read(key.clone()));
            }
        }
        Subscription {
            shared: self.shared.clone(),
            key,
            id,
            readings: receiver,
        }
    }
}

impl Shared {
    fn pairs(&self) -> std::sync::MutexGuard<'_, HashMap<PairKey, Pair>> {
        self.pairs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the pair's workloads every poll, until nobody subscribes to them.
    async fn read(self: Arc<Self>, key: PairKey) {
        loop {
            tokio::time::sleep(self.poll).await;
            let (cluster, workloads) = {
                let mut pairs = self.pairs();
                let Some(pair) = pairs.get(&key) else { return };
                if pair.subscribers.is_empty() {
                    pairs.remove(&key);
                    return;
                }
                let mut workloads: Vec<Workload> = pair
                    .subscribers
                    .values()
                    .flat_map(|s| s.workloads.iter().cloned())
                    .collect();
                workloads
                    .sort_by(|a, b| (a.kind.as_str(), &a.name).cmp(&(b.kind.as_str(), &b.name)));
                workloads.dedup();
                (pair.cluster.clone(), workloads)
            };
            let readings = cluster.rollouts(&key.1, &workloads).await;
            self.metrics.rollouts_read(&key.0, &readings);
            let by_workload: HashMap<&Workload, &Result<Rollout, ClusterError>> =
                workloads.iter().zip(&readings).collect();
            let pairs = self.pairs();
            let Some(pair) = pairs.get(&key) else { return };
            for subscriber in pair.subscribers.values() {
                // A subscriber that came during the reading gets the next one.
                let theirs: Option<Vec<_>> = subscriber
                    .workloads
                    .iter()
                    .map(|workload| by_workload.get(workload).map(|reading| (*reading).clone()))
                    .collect();
                if let Some(theirs) = theirs {
                    subscriber.readings.send_replace(Some(Arc::new(theirs)));
                }
            }
        }
    }
}

impl Subscription {
    /// The next readings of the subscribed workloads.
    pub(crate) async fn next(&mut self) -> Readings {
        loop {
            if self.readings.changed().await.is_err() {
                // The reading task ended, which it does only without subscribers.
                std::future::pending::<()>().await;
            }
            if let Some(readings) = self.readings.borrow_and_update().clone() {
                return readings;
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(pair) = self.shared.pairs().get_mut(&self.key) {
            pair.subscribers.remove(&self.id);
        }
    }
}

/// The cancel requests of the deployments a worker holds, read once per poll while any of them
/// waits for its rollouts.
#[derive(Debug, Clone)]
pub(crate) struct Cancels {
    requests: Arc<watch::Sender<Arc<HashMap<Uuid, String>>>>,
}

impl Cancels {
    /// No requests read yet.
    pub(crate) fn new() -> Self {
        Self {
            requests: Arc::new(watch::Sender::new(Arc::default())),
        }
    }

    /// Whether a deployment waits on [`Cancels::requested`].
    pub(crate) fn watched(&self) -> bool {
        self.requests.receiver_count() > 0
    }

    /// Reads the requests for the deployments `worker` holds.
    pub(crate) async fn refresh(&self, store: &Store, worker: &str) {
        let store = store.clone();
        let worker = worker.to_owned();
        match tokio::task::spawn_blocking(move || store.cancel_requests(&worker)).await {
            Ok(Ok(requests)) => {
                self.requests
                    .send_replace(Arc::new(requests.into_iter().collect()));
            }
            Ok(Err(error)) => log::warn!("cannot read cancel requests: {error}"),
            Err(error) => log::warn!("cannot read cancel requests: {error}"),
        }
    }

    /// Completes with who asked, once someone asked to cancel deployment `id`.
    pub(crate) async fn requested(&self, id: Uuid) -> String {
        let mut requests = self.requests.subscribe();
        loop {
            if let Some(by) = requests.borrow_and_update().get(&id) {
                return by.clone();
            }
            if requests.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
