//! Deployment workers sharing one database, as several server replicas do: every deployment
//! runs exactly once, one at a time per service and context, in creation order; a deployment
//! whose worker died is resumed. On SQLite always, on PostgreSQL when configured.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubernaut_app::deploy::{Worker, WorkerOptions, render};
use kubernaut_app::{App, AuthOptions};
use kubernaut_cluster::{
    Applied, Cluster, ClusterError, ContextKind, Contexts, LiveObject, Object, ObjectRef, Workload,
};
use kubernaut_domain::{
    Attributes, ContextName, DeploymentStatus, GroupKind, Namespace, NewDeployment, NewRelease,
    Rollout, ServiceName, TemplateSource, Version,
};
use kubernaut_store::Store;
use kubernaut_store::testing::TestDatabase;
use kubernaut_store::testing::Writes;
use kubernaut_template::Template;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep};
use uuid::Uuid;

const TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}
data:
  version: \"{{version}}\"
";

/// What the cluster saw: `(service, version, started)` in order, `started` false at the end of
/// an apply.
type Events = Arc<Mutex<Vec<(String, u32, bool)>>>;

/// A cluster whose applies take a while and are recorded.
#[derive(Debug, Default)]
struct RecordingCluster {
    events: Events,
    apply_time: Duration,
}

#[async_trait::async_trait]
impl Cluster for RecordingCluster {
    async fn apply(&self, _namespace: &str, object: &Object) -> Result<Applied, ClusterError> {
        if object.kind != "ConfigMap" {
            // The ApplySet's parent.
            return Ok(Applied::Created);
        }
        let version: u32 = object.body["data"]["version"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let event = |started| (object.name.clone(), version, started);
        self.events.lock().unwrap().push(event(true));
        sleep(self.apply_time).await;
        self.events.lock().unwrap().push(event(false));
        Ok(Applied::Created)
    }

    async fn rollout(&self, _: &str, _: &Workload) -> Result<Rollout, ClusterError> {
        Ok(Rollout::Done)
    }

    async fn get(&self, _: &str, _: &ObjectRef) -> Result<Option<LiveObject>, ClusterError> {
        Ok(None)
    }

    async fn members(
        &self,
        _: &str,
        _: &str,
        _: &BTreeSet<GroupKind>,
    ) -> Result<Vec<LiveObject>, ClusterError> {
        Ok(Vec::new())
    }
}

fn contexts(cluster: Arc<dyn Cluster>) -> Arc<Contexts> {
    Arc::new(Contexts::from_clusters(vec![(
        "prod".to_owned(),
        ContextKind::Kubeconfig,
        cluster,
    )]))
}

/// Stores a release of `service` at `version` and a deployment of it to `prod`.
fn deploy(store: &Store, service: &str, version: u32) -> Uuid {
    deploy_template(store, service, version, TEMPLATE)
}

/// Stores a release of `service` at `version` with `template`, and a deployment of it to
/// `prod`.
fn deploy_template(store: &Store, service: &str, version: u32, template: &str) -> Uuid {
    let new = NewRelease::new(
        ServiceName::parse(service).unwrap(),
        Namespace::default(),
        Version::parse(&version.to_string()).unwrap(),
        TemplateSource::parse(template).unwrap(),
        Attributes::default(),
        "ci",
    )
    .unwrap();
    let release = store.create_release(&new).unwrap().into_inner();
    let context = ContextName::parse("prod").unwrap();
    let template = Template::compile(release.source.as_str()).unwrap();
    let manifest = render(&release, &template, &context, false).unwrap();
    let deployment = NewDeployment {
        release_id: release.release.id,
        context,
        manifest: manifest.yaml,
        created_by: "ci".to_owned(),
        rollback: false,
        auto_rollback: false,
        prune: true,
    };
    store
        .create_deployment(&deployment, "rendered")
        .unwrap()
        .deployment
        .id
}

/// Starts a worker on its own connection pool, as another server process would have.
fn start_worker(
    db: &TestDatabase,
    contexts: Arc<Contexts>,
    lease: Duration,
) -> (tokio::task::JoinHandle<()>, Arc<Notify>) {
    start_worker_with(
        db,
        contexts,
        WorkerOptions {
            poll_interval: Duration::from_millis(20),
            rollout_poll: Duration::from_millis(20),
            lease,
            ..WorkerOptions::default()
        },
    )
}

fn start_worker_with(
    db: &TestDatabase,
    contexts: Arc<Contexts>,
    options: WorkerOptions,
) -> (tokio::task::JoinHandle<()>, Arc<Notify>) {
    let app = App::new(db.open(), contexts, &AuthOptions::default());
    let worker = Worker::new(&app, options);
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let handle = tokio::spawn(worker.run(async move { stopped.notified().await }));
    (handle, stop)
}

/// Waits until every deployment ended; their statuses.
async fn wait_until_ended(store: &Store, ids: &[Uuid], within: Duration) -> Vec<DeploymentStatus> {
    let deadline = Instant::now() + within;
    loop {
        let statuses: Vec<DeploymentStatus> = ids
            .iter()
            .map(|id| store.deployment(*id).unwrap().unwrap().deployment.status)
            .collect();
        if statuses.iter().all(|s| s.is_terminal()) || Instant::now() > deadline {
            return statuses;
        }
        sleep(Duration::from_millis(50)).await;
    }
}

async fn two_workers_run_each_deployment_once_in_order_per_service(db: TestDatabase) {
    let store = db.open();
    let services = ["alpha", "bravo", "charlie", "delta", "echo"];
    let mut ids = Vec::new();
    for version in 1..=10 {
        for service in services {
            ids.push(deploy(&store, service, version));
        }
    }
    let cluster = Arc::new(RecordingCluster {
        apply_time: Duration::from_millis(10),
        ..RecordingCluster::default()
    });
    let events = cluster.events.clone();
    let contexts = contexts(cluster);
    let workers: Vec<_> = (0..2)
        .map(|_| start_worker(&db, contexts.clone(), Duration::from_secs(30)))
        .collect();

    let statuses = wait_until_ended(&store, &ids, Duration::from_secs(60)).await;
    for (_, stop) in &workers {
        stop.notify_one();
    }
    for (handle, _) in workers {
        handle.await.unwrap();
    }
    assert!(
        statuses.iter().all(|s| *s == DeploymentStatus::Succeeded),
        "{statuses:?}"
    );

    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 100, "each of the 50 deployments applied once");
    let mut running: HashSet<String> = HashSet::new();
    let mut applied: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (service, version, started) in events {
        if started {
            assert!(
                running.insert(service.clone()),
                "two deployments of {service} at once"
            );
            applied.entry(service).or_default().push(version);
        } else {
            running.remove(&service);
        }
    }
    for service in services {
        assert_eq!(applied[service], (1..=10).collect::<Vec<_>>(), "{service}");
    }
}

/// A cluster whose applies never finish: the worker is killed in the middle of one.
#[derive(Debug)]
struct HangingCluster;

#[async_trait::async_trait]
impl Cluster for HangingCluster {
    async fn apply(&self, _: &str, _: &Object) -> Result<Applied, ClusterError> {
        std::future::pending().await
    }

    async fn rollout(&self, _: &str, _: &Workload) -> Result<Rollout, ClusterError> {
        std::future::pending().await
    }

    async fn get(&self, _: &str, _: &ObjectRef) -> Result<Option<LiveObject>, ClusterError> {
        Ok(None)
    }
}

async fn a_killed_worker_leaves_nothing_in_flight(db: TestDatabase) {
    let store = db.open();
    let id = deploy(&store, "alpha", 1);
    let lease = Duration::from_millis(300);
    let (killed, _) = start_worker(&db, contexts(Arc::new(HangingCluster)), lease);
    let applying = wait_for(&store, id, DeploymentStatus::Applying).await;
    assert!(applying, "the first worker never started the deployment");
    killed.abort();
    assert!(killed.await.unwrap_err().is_cancelled());

    let (survivor, stop) =
        start_worker(&db, contexts(Arc::new(RecordingCluster::default())), lease);
    let statuses = wait_until_ended(&store, &[id], Duration::from_secs(20)).await;
    stop.notify_one();
    survivor.await.unwrap();
    assert_eq!(statuses, [DeploymentStatus::Succeeded]);
    let log: Vec<String> = store
        .deployment(id)
        .unwrap()
        .unwrap()
        .log
        .into_iter()
        .map(|line| line.content)
        .collect();
    assert!(
        log.iter()
            .any(|line| line.contains("stopped while the deployment was applying; resumed")),
        "{log:?}"
    );
    assert!(
        log.contains(&"configmap/alpha created".to_owned()),
        "{log:?}"
    );
}

async fn wait_for(store: &Store, id: Uuid, status: DeploymentStatus) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if store.deployment(id).unwrap().unwrap().deployment.status == status {
            return true;
        }
        sleep(Duration::from_millis(20)).await;
    }
    false
}

const WORKLOAD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  selector:
    matchLabels:
      app: {{service}}
  template:
    metadata:
      labels:
        app: {{service}}
    spec:
      containers:
        - name: app
          image: nginx:{{version}}
";

/// A cluster whose `slow-*` workloads roll out only once released; it counts applies and
/// remembers how many workloads each rollout reading asked for.
#[derive(Debug, Default)]
struct SlowCluster {
    released: std::sync::atomic::AtomicBool,
    applies: Mutex<BTreeMap<String, usize>>,
    readings: Mutex<Vec<usize>>,
}

#[async_trait::async_trait]
impl Cluster for SlowCluster {
    async fn apply(&self, _: &str, object: &Object) -> Result<Applied, ClusterError> {
        *self
            .applies
            .lock()
            .unwrap()
            .entry(object.name.clone())
            .or_default() += 1;
        Ok(Applied::Created)
    }

    async fn rollout(&self, _: &str, workload: &Workload) -> Result<Rollout, ClusterError> {
        let released = self.released.load(std::sync::atomic::Ordering::SeqCst);
        Ok(if workload.name.starts_with("slow") && !released {
            Rollout::Progressing(format!("{} is slow", workload.name))
        } else {
            Rollout::Done
        })
    }

    async fn rollouts(
        &self,
        namespace: &str,
        workloads: &[Workload],
    ) -> Vec<Result<Rollout, ClusterError>> {
        self.readings.lock().unwrap().push(workloads.len());
        let mut rollouts = Vec::new();
        for workload in workloads {
            rollouts.push(self.rollout(namespace, workload).await);
        }
        rollouts
    }

    async fn get(&self, _: &str, _: &ObjectRef) -> Result<Option<LiveObject>, ClusterError> {
        Ok(None)
    }

    async fn members(
        &self,
        _: &str,
        _: &str,
        _: &BTreeSet<GroupKind>,
    ) -> Result<Vec<LiveObject>, ClusterError> {
        Ok(Vec::new())
    }
}

async fn slow_rollouts_hold_no_slot_and_are_read_together(db: TestDatabase) {
    let store = db.open();
    let slow: Vec<Uuid> = (0..20)
        .map(|n| deploy_template(&store, &format!("slow-{n}"), 1, WORKLOAD))
        .collect();
    let cluster = Arc::new(SlowCluster::default());
    let lease = Duration::from_millis(600);
    let (worker, stop) = start_worker_with(
        &db,
        contexts(cluster.clone()),
        WorkerOptions {
            poll_interval: Duration::from_millis(20),
            rollout_poll: Duration::from_millis(50),
            lease,
            max_parallel: 2,
            ..WorkerOptions::default()
        },
    );
    for id in &slow {
        assert!(wait_for(&store, *id, DeploymentStatus::RollingOut).await);
    }

    // Two slots, twenty rollouts in progress: another service still deploys at once.
    let fast = deploy_template(&store, "fast", 1, WORKLOAD);
    let statuses = wait_until_ended(&store, &[fast], Duration::from_secs(20)).await;
    assert_eq!(statuses, [DeploymentStatus::Succeeded]);
    for id in &slow {
        let status = store.deployment(*id).unwrap().unwrap().deployment.status;
        assert_eq!(status, DeploymentStatus::RollingOut);
    }
    // Outlive the lease a few times: the claims are renewed, nothing is resumed.
    sleep(lease * 3).await;
    let widest = cluster.readings.lock().unwrap().iter().copied().max();
    assert_eq!(widest, Some(20), "the waiting workloads are read together");

    cluster
        .released
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let statuses = wait_until_ended(&store, &slow, Duration::from_secs(20)).await;
    stop.notify_one();
    worker.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == DeploymentStatus::Succeeded),
        "{statuses:?}"
    );
    for id in &slow {
        let log: Vec<String> = (store.deployment(*id).unwrap().unwrap().log)
            .into_iter()
            .map(|line| line.content)
            .collect();
        assert!(!log.iter().any(|line| line.contains("resumed")), "{log:?}");
    }
    let applies = cluster.applies.lock().unwrap().clone();
    assert!(
        (0..20).all(|n| applies[&format!("slow-{n}")] == 1),
        "each applied once: {applies:?}"
    );
}

macro_rules! worker_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(TestDatabase::sqlite()).await;
                }
            )*
        }

        mod postgres {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
                async fn $name() {
                    super::$name(TestDatabase::postgres()).await;
                }
            )*
        }
    };
}

worker_tests!(
    two_workers_run_each_deployment_once_in_order_per_service,
    a_killed_worker_leaves_nothing_in_flight,
    slow_rollouts_hold_no_slot_and_are_read_together,
);
