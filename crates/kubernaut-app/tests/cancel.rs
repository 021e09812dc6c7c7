//! Canceling a deployment while its worker applies it, from another server on the same
//! database: the worker stops before its next object, and what it applied stays applied.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubernaut_app::deploy::{Worker, WorkerOptions};
use kubernaut_app::{App, AuthOptions, Caller, DeploymentRequest, ReleaseLookup};
use kubernaut_cluster::{
    Applied, Cluster, ClusterError, ContextKind, Contexts, LiveObject, Object, ObjectRef, Workload,
};
use kubernaut_domain::{
    Attributes, ContextName, DeploymentStatus, Namespace, NewRelease, Rollout, ServiceName,
    TemplateSource, Version,
};
use kubernaut_store::testing::TestDatabase;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

const TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: first
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
";

const ADMIN: &str = "knt_cancel-test-admin-0123456789abcdef0123456789";

/// A cluster whose applies of ConfigMaps wait for a permit, recording what they applied. The
/// ApplySet's parent (a Secret) passes at once.
#[derive(Debug)]
struct GatedCluster {
    permits: Semaphore,
    started: Notify,
    applied: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Cluster for GatedCluster {
    async fn apply(&self, _: &str, object: &Object) -> Result<Applied, ClusterError> {
        if object.kind != "ConfigMap" {
            return Ok(Applied::Created);
        }
        self.started.notify_one();
        self.permits.acquire().await.unwrap().forget();
        self.applied.lock().unwrap().push(object.name.clone());
        Ok(Applied::Created)
    }

    async fn rollout(&self, _: &str, _: &Workload) -> Result<Rollout, ClusterError> {
        Ok(Rollout::Done)
    }

    async fn get(&self, _: &str, _: &ObjectRef) -> Result<Option<LiveObject>, ClusterError> {
        Ok(None)
    }
}

/// An app (a server) on `db` deploying to `prod` on `cluster`, with the admin token.
async fn server(db: &TestDatabase, cluster: Arc<GatedCluster>) -> (App, Caller) {
    let contexts = Arc::new(Contexts::from_clusters(vec![(
        "prod".to_owned(),
        ContextKind::Kubeconfig,
        cluster as Arc<dyn Cluster>,
    )]));
    let app = App::new(db.open(), contexts, &AuthOptions::default());
    app.bootstrap_admin(Some(ADMIN.to_owned())).await.unwrap();
    let caller = app
        .authenticate(Some(&format!("Bearer {ADMIN}")), None, None)
        .await
        .unwrap();
    (app, caller)
}

async fn a_cancel_on_one_server_stops_the_worker_of_another_between_objects(db: TestDatabase) {
    let cluster = Arc::new(GatedCluster {
        permits: Semaphore::new(0),
        started: Notify::new(),
        applied: Mutex::default(),
    });
    let (first, caller) = server(&db, cluster.clone()).await;
    let (second, _) = server(&db, cluster.clone()).await;
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(50),
        ..WorkerOptions::default()
    };
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let worker = tokio::spawn(Worker::new(&second, options).run(async move {
        stopped.notified().await;
    }));

    let release = NewRelease::new(
        ServiceName::parse("hello").unwrap(),
        Namespace::default(),
        Version::parse("1").unwrap(),
        TemplateSource::parse(TEMPLATE).unwrap(),
        Attributes::default(),
        "ci",
    )
    .unwrap();
    first.create_release(&caller, release).await.unwrap();
    let request = DeploymentRequest {
        release: ReleaseLookup::Version(
            ServiceName::parse("hello").unwrap(),
            Namespace::default(),
            Version::parse("1").unwrap(),
        ),
        context: ContextName::parse("prod").unwrap(),
        auto_rollback: false,
        prune: true,
    };
    let id = first
        .create_deployment(&caller, request)
        .await
        .unwrap()
        .deployment
        .id;

    // The other server's worker is in the middle of the first object.
    tokio::time::timeout(Duration::from_secs(10), cluster.started.notified())
        .await
        .expect("the worker never applied");
    let stopping = first.cancel_deployment(&caller, id).await.unwrap();
    assert_eq!(stopping.deployment.status, DeploymentStatus::Applying);
    cluster.permits.add_permits(10);

    let deadline = Instant::now() + Duration::from_secs(10);
    let ended = loop {
        let current = first.deployment(&caller, id).await.unwrap();
        if current.deployment.status.is_terminal() {
            break current;
        }
        assert!(Instant::now() < deadline, "not ended: {current:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.notify_one();
    worker.await.unwrap();
    assert_eq!(ended.deployment.status, DeploymentStatus::Canceled);
    assert_eq!(
        *cluster.applied.lock().unwrap(),
        ["first"],
        "it stopped before the second object"
    );
    let log: Vec<String> = ended.log.into_iter().map(|l| l.content).collect();
    assert_eq!(
        log.last().unwrap(),
        "canceled by admin; the objects applied before stay"
    );
    assert!(
        log.contains(&"configmap/first created".to_owned()),
        "{log:?}"
    );
}

macro_rules! cancel_tests {
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

cancel_tests!(a_cancel_on_one_server_stops_the_worker_of_another_between_objects);
