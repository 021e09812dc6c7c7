//! The deployment endpoints and the worker, end to end on the in-memory sandbox cluster: every
//! status code of API.md's deployment endpoints, and release -> deploy -> succeeded -> rollback.

mod common;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::test;
use common::{app, message, send};
use kubernaut_api::AppState;
use kubernaut_app::deploy::{Worker, WorkerOptions};
use kubernaut_cluster::{ContextKind, Contexts, Sandbox};
use kubernaut_store::testing::TestDatabase;
use serde_json::{Value, json};
use tokio::sync::Notify;

const TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-config
data:
  context: \"{{context}}\"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  annotations:
    {{#rollout}}kubernaut.io/sandbox-rollout: \"{{rollout}}\"{{/rollout}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

/// A sandbox-backed app and the sandbox, with a worker running in the background.
struct Harness {
    state: AppState,
    sandbox: Arc<Sandbox>,
    stop: Arc<Notify>,
}

impl Harness {
    async fn new(db: &TestDatabase, rollout_timeout: Duration) -> Self {
        let sandbox = Arc::new(Sandbox::default());
        let contexts = Arc::new(Contexts::from_clusters(vec![(
            "sandbox".to_owned(),
            ContextKind::Sandbox,
            sandbox.clone(),
        )]));
        let state = common::state_with(db.open(), contexts.clone()).await;
        let options = WorkerOptions {
            poll_interval: Duration::from_millis(50),
            rollout_poll: Duration::from_millis(50),
            rollout_timeout,
            ..WorkerOptions::default()
        };
        let worker = Worker::new(&state.app, options);
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        actix_web::rt::spawn(worker.run(async move { stopped.notified().await }));
        Self {
            state,
            sandbox,
            stop,
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

fn release(version: &str, image: &str, extra: &[(&str, &str)]) -> Value {
    let mut attributes = json!({"image": image});
    for (name, value) in extra {
        attributes[*name] = json!(value);
    }
    json!({"service": "hello", "version": version, "template": TEMPLATE, "attributes": attributes})
}

fn post(uri: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

fn log_lines(deployment: &Value) -> Vec<String> {
    deployment["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["content"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn release_deploy_succeed_and_roll_back() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;

    let (_, _, first) = send(&app, post("/api/releases", &release("1", "hello:1", &[]))).await;
    let (_, _, second) = send(&app, post("/api/releases", &release("2", "hello:2", &[]))).await;

    // Without wait: 202 with the stored manifest, pending.
    let (status, headers, pending) = send(
        &app,
        post(
            "/api/deployments",
            &json!({"release": second["id"], "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let id = pending["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        format!("/api/deployments/{id}").as_str()
    );
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["context"], "sandbox");
    assert_eq!(pending["namespace"], "default");
    assert_eq!(pending["release"]["version"], "2");
    assert_eq!(pending["release"]["service"]["name"], "hello");
    assert!(pending["error"].is_null());
    let manifest = pending["manifest"].as_str().unwrap();
    assert!(manifest.contains("image: \"hello:2\""), "{manifest}");
    assert!(manifest.contains("context: \"sandbox\""), "{manifest}");
    assert_eq!(
        log_lines(&pending),
        ["rendered release 2 of hello for context sandbox: 2 object(s), requested by admin"]
    );

    // The worker runs it: wait for its end through ?wait.
    let (status, _, done) = send(
        &app,
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": "2", "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["startedOn"].is_string() && done["finishedOn"].is_string());
    let lines = log_lines(&done);
    // The same release again: the sandbox holds these objects already.
    assert!(
        lines.contains(&"configmap/hello-config unchanged".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"deployment.apps/hello unchanged".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"deployment.apps/hello rolled out".to_owned()),
        "{lines:?}"
    );
    let applied = harness
        .sandbox
        .object("default", "Deployment", "hello")
        .unwrap();
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "hello:2"
    );

    // The first deployment ran before it, in creation order.
    let (_, _, first_done) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/deployments/{id}")),
    )
    .await;
    assert_eq!(first_done["status"], "succeeded", "{first_done}");
    assert!(
        log_lines(&first_done).contains(&"deployment.apps/hello created".to_owned()),
        "{first_done}"
    );

    // Rolling back is deploying the older release.
    let (status, _, rollback) = send(
        &app,
        post(
            "/api/deployments?wait=10",
            &json!({"release": first["id"], "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rollback["status"], "succeeded", "{rollback}");
    let applied = harness
        .sandbox
        .object("default", "Deployment", "hello")
        .unwrap();
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "hello:1"
    );

    // The service shows what runs where.
    let service_id = first["service"]["id"].as_str().unwrap();
    let (_, _, service) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/services/{service_id}")),
    )
    .await;
    let latest = &service["latestDeployments"]["sandbox"];
    assert_eq!(latest["id"], rollback["id"], "{service}");
    assert_eq!(latest["release"]["version"], "1");
    assert!(latest.get("manifest").is_none());

    // Lists: newest first, filtered, without manifest and log.
    let (_, _, all) = send(&app, test::TestRequest::get().uri("/api/deployments")).await;
    assert_eq!(all["count"], 3);
    assert_eq!(all["items"][0]["id"], rollback["id"]);
    assert!(all["items"][0].get("log").is_none());
    for (query, count) in [
        ("version=2", 2),
        ("version=1&status=succeeded", 1),
        ("context=sandbox&service=hello&namespace=default", 3),
        ("status=failed", 0),
        ("service=other", 0),
    ] {
        let (status, _, page) = send(
            &app,
            test::TestRequest::get().uri(&format!("/api/deployments?{query}")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(page["count"], count, "{query}: {page}");
    }
    let release_filter = format!("/api/deployments?release={}", first["id"].as_str().unwrap());
    let (_, _, page) = send(&app, test::TestRequest::get().uri(&release_filter)).await;
    assert_eq!(page["count"], 1);
}

#[actix_web::test]
async fn a_failed_rollout_is_explained_and_a_stuck_one_times_out() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_millis(500)).await;
    let app = app(harness.state.clone()).await;

    send(
        &app,
        post(
            "/api/releases",
            &release("1", "hello:1", &[("rollout", "failed")]),
        ),
    )
    .await;
    let (_, _, failed) = send(
        &app,
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": "1", "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("deployment.apps/hello failed to roll out: "),
        "{error}"
    );
    let last = failed["log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["stream"], "stderr");
    assert_eq!(last["content"], error);

    send(
        &app,
        post(
            "/api/releases",
            &release("2", "hello:2", &[("rollout", "progressing")]),
        ),
    )
    .await;
    let (_, _, stuck) = send(
        &app,
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": "2", "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(stuck["status"], "failed", "{stuck}");
    assert!(
        stuck["error"]
            .as_str()
            .unwrap()
            .starts_with("deployment.apps/hello did not roll out within 500ms"),
        "{stuck}"
    );
}

#[actix_web::test]
async fn bad_deployment_requests_get_a_4xx_naming_the_problem() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;
    let (_, _, created) = send(&app, post("/api/releases", &release("1", "hello:1", &[]))).await;
    let release_id = created["id"].as_str().unwrap().to_owned();

    let cases = [
        (json!({"release": release_id}), 400, "context is required"),
        (
            json!({"release": release_id, "context": "prod"}),
            400,
            "context prod is not configured on this server; known contexts: sandbox",
        ),
        (
            json!({"release": release_id, "service": "hello", "version": "1", "context": "sandbox"}),
            400,
            "give either release or service and version, not both",
        ),
        (
            json!({"context": "sandbox"}),
            400,
            "release is required, or service and version",
        ),
        (
            json!({"service": "hello", "context": "sandbox"}),
            400,
            "version is required",
        ),
        (
            json!({"release": "nope", "context": "sandbox"}),
            400,
            "release must be a release id (a UUID), got \"nope\"",
        ),
        (
            json!({"release": "018f0000-0000-7000-8000-000000000000", "context": "sandbox"}),
            404,
            "release 018f0000-0000-7000-8000-000000000000 does not exist",
        ),
        (
            json!({"service": "hello", "version": "9", "context": "sandbox"}),
            404,
            "release 9 of service hello in namespace default does not exist",
        ),
        (
            json!({"release": release_id, "context": "sandbox", "cluster": "x"}),
            400,
            "unknown field `cluster`",
        ),
    ];
    for (body, status, expected) in cases {
        let (got, _, response) = send(&app, post("/api/deployments", &body)).await;
        assert_eq!(got.as_u16(), status, "{body} -> {response}");
        assert!(
            message(&response).contains(expected),
            "{body}: {response} lacks {expected:?}"
        );
    }

    for wait in ["-1", "901", "soon"] {
        let (status, _, response) = send(
            &app,
            post(
                &format!("/api/deployments?wait={wait}"),
                &json!({"release": release_id, "context": "sandbox"}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{wait}");
        assert!(message(&response).starts_with("wait must be an integer"));
    }
    let req = test::TestRequest::post()
        .uri("/api/deployments")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload("release=x");
    let (status, _, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A cluster-scoped kind is refused when the deployment is created.
    let rbac = json!({
        "service": "rbac", "version": "1",
        "template": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{service}}\n",
    });
    let (status, _, _) = send(&app, post("/api/releases", &rbac)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, response) = send(
        &app,
        post(
            "/api/deployments",
            &json!({"service": "rbac", "version": "1", "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&response).contains("(ClusterRole/rbac) is of a cluster-scoped kind"),
        "{response}"
    );

    // A deleted release cannot be deployed.
    send(
        &app,
        test::TestRequest::delete().uri(&format!("/api/releases/{release_id}")),
    )
    .await;
    let (status, _, _) = send(
        &app,
        post(
            "/api/deployments",
            &json!({"release": release_id, "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing was stored by any of them.
    let (_, _, list) = send(&app, test::TestRequest::get().uri("/api/deployments")).await;
    assert_eq!(list["count"], 0, "{list}");

    for query in ["status=done", "release=nope", "limit=0", "colour=red"] {
        let (status, _, _) = send(
            &app,
            test::TestRequest::get().uri(&format!("/api/deployments?{query}")),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
    }
}

#[actix_web::test]
async fn deployments_are_soft_deleted_and_contexts_are_listed() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;
    send(&app, post("/api/releases", &release("1", "hello:1", &[]))).await;
    let (_, _, deployment) = send(
        &app,
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": "1", "context": "sandbox"}),
        ),
    )
    .await;
    let uri = format!("/api/deployments/{}", deployment["id"].as_str().unwrap());

    for _ in 0..2 {
        let (status, _, body) = send(&app, test::TestRequest::delete().uri(&uri)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(body.is_null());
    }
    let (status, _, _) = send(&app, test::TestRequest::get().uri(&uri)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, list) = send(&app, test::TestRequest::get().uri("/api/deployments")).await;
    assert_eq!(list["count"], 0);
    // Deleting the record removes nothing from the cluster.
    assert!(
        harness
            .sandbox
            .object("default", "Deployment", "hello")
            .is_some()
    );
    for unknown in [
        "/api/deployments/nope",
        "/api/deployments/018f0000-0000-7000-8000-000000000000",
    ] {
        let (status, _, _) = send(&app, test::TestRequest::get().uri(unknown)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = send(&app, test::TestRequest::delete().uri(unknown)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, headers, _) = send(&app, test::TestRequest::put().uri(&uri)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers.get(header::ALLOW).unwrap(), "GET, DELETE");

    let (status, _, contexts) = send(&app, test::TestRequest::get().uri("/api/contexts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        contexts,
        json!({"items": [{"name": "sandbox", "kind": "sandbox"}], "count": 1, "limit": 50, "offset": 0})
    );
}

/// Reads deployment `id` until `done` holds (at most 10 s).
async fn wait_until<S, B>(app: &S, id: &str, done: impl Fn(&Value) -> bool) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, deployment) = send(
            app,
            test::TestRequest::get().uri(&format!("/api/deployments/{id}")),
        )
        .await;
        if done(&deployment) {
            return deployment;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deployment {id} never got there: {deployment}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn cancel_stops_a_pending_and_a_rolling_out_deployment_and_the_lane_moves_on() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(60)).await;
    let app = app(harness.state.clone()).await;
    for (version, extra) in [
        ("1", &[("rollout", "progressing")][..]),
        ("2", &[]),
        ("3", &[]),
    ] {
        let image = format!("hello:{version}");
        send(
            &app,
            post("/api/releases", &release(version, &image, extra)),
        )
        .await;
    }
    let deploy = |version: &str| {
        post(
            "/api/deployments",
            &json!({"service": "hello", "version": version, "context": "sandbox"}),
        )
    };
    let (_, _, stuck) = send(&app, deploy("1")).await;
    let stuck_id = stuck["id"].as_str().unwrap().to_owned();
    wait_until(&app, &stuck_id, |d| d["status"] == "rolling_out").await;
    let (_, _, queued) = send(&app, deploy("2")).await;
    let queued_id = queued["id"].as_str().unwrap().to_owned();
    assert_eq!(
        queued["status"], "pending",
        "behind the stuck one in its lane"
    );

    // Pending: canceled at once.
    let cancel = |id: &str| post(&format!("/api/deployments/{id}/cancel"), &json!({}));
    let (status, _, canceled) = send(&app, cancel(&queued_id)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    assert!(canceled["finishedOn"].is_string());
    assert_eq!(
        log_lines(&canceled).last().unwrap(),
        "canceled by admin before it started"
    );

    // Rolling out: stops before its next rollout check, long before its 60 s timeout.
    let (status, _, stopping) = send(&app, cancel(&stuck_id)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{stopping}");
    let ended = wait_until(&app, &stuck_id, |d| d["status"] == "canceled").await;
    assert!(ended["error"].is_null());
    let lines = log_lines(&ended);
    assert!(
        lines.contains(&"cancel requested by admin; stopping before the next step".to_owned()),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().unwrap(),
        "canceled by admin; the objects applied before stay"
    );
    assert!(
        harness
            .sandbox
            .object("default", "Deployment", "hello")
            .is_some(),
        "what was applied stays"
    );

    // Ended: 409; the lane runs the next deployment.
    let (status, _, body) = send(&app, cancel(&stuck_id)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        format!("deployment {stuck_id} already ended (canceled); there is nothing to cancel")
    );
    let (_, _, next) = send(&app, deploy("3")).await;
    let next_id = next["id"].as_str().unwrap().to_owned();
    wait_until(&app, &next_id, |d| d["status"] == "succeeded").await;

    let (_, _, audit) = send(
        &app,
        test::TestRequest::get().uri("/api/audit?action=deployment.cancel"),
    )
    .await;
    assert_eq!(audit["count"], 2, "{audit}");
    let (status, _, _) = send(&app, cancel("0192f1c2-0000-7000-8000-000000000000")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A deleted deployment is not found, and a cancel of it changes and records nothing.
    let (_, _, doomed) = send(&app, deploy("3")).await;
    let doomed_id = doomed["id"].as_str().unwrap().to_owned();
    wait_until(&app, &doomed_id, |d| d["status"] == "succeeded").await;
    let (status, _, _) = send(
        &app,
        test::TestRequest::delete().uri(&format!("/api/deployments/{doomed_id}")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&app, cancel(&doomed_id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, _, audit) = send(
        &app,
        test::TestRequest::get().uri("/api/audit?action=deployment.cancel"),
    )
    .await;
    assert_eq!(audit["count"], 2, "{audit}");

    // Both cancels are counted, the pending one too.
    let metrics =
        test::call_and_read_body(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    assert!(
        metrics.contains("kubernaut_deployments_total{context=\"sandbox\",status=\"canceled\"} 2"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn rollback_puts_back_the_last_good_release_and_toggles() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;
    let rollback = || {
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "context": "sandbox", "rollback": true}),
        )
    };
    let (status, _, body) = send(&app, rollback()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such service yet: {body}");

    for (version, extra) in [
        ("1", &[][..]),
        ("2", &[]),
        ("3", &[("rollout", "failed")]),
        ("4", &[]),
    ] {
        let image = format!("hello:{version}");
        send(
            &app,
            post("/api/releases", &release(version, &image, extra)),
        )
        .await;
    }
    let deploy = |version: &str| {
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": version, "context": "sandbox"}),
        )
    };
    let (status, _, body) = send(&app, rollback()).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing deployed yet: {body}");
    assert!(
        message(&body).starts_with("there is nothing to roll back to"),
        "{body}"
    );

    let (_, _, first) = send(&app, deploy("1")).await;
    assert_eq!(first["status"], "succeeded");
    let (status, _, body) = send(&app, rollback()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "only one release ever succeeded: {body}"
    );

    send(&app, deploy("2")).await;
    let (status, _, back) = send(&app, rollback()).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["release"]["version"], "1");
    assert_eq!(back["rollback"], true);
    assert_eq!(back["status"], "succeeded");
    assert!(
        log_lines(&back)[0].ends_with("a rollback requested by admin"),
        "{back}"
    );
    let (_, _, again) = send(&app, rollback()).await;
    assert_eq!(again["release"]["version"], "2", "two rollbacks toggle");

    // After a failure: the newest success, even if it is the release deployed last.
    let (_, _, failed) = send(&app, deploy("3")).await;
    assert_eq!(failed["status"], "failed");
    let (_, _, after_failure) = send(&app, rollback()).await;
    assert_eq!(after_failure["release"]["version"], "2");

    // A deleted release is never picked.
    let (_, _, releases) = send(
        &app,
        test::TestRequest::get().uri("/api/releases?service=hello&version=1"),
    )
    .await;
    let v1 = releases["items"][0]["id"].as_str().unwrap().to_owned();
    send(
        &app,
        test::TestRequest::delete().uri(&format!("/api/releases/{v1}")),
    )
    .await;
    let (status, _, body) = send(&app, rollback()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "2 is deployed; 1, the only other success, is deleted: {body}"
    );

    let (status, _, body) = send(
        &app,
        post(
            "/api/deployments",
            &json!({"service": "hello", "version": "4", "context": "sandbox", "rollback": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[actix_web::test]
async fn a_failed_deployment_with_auto_rollback_rolls_itself_back() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;
    send(&app, post("/api/releases", &release("1", "hello:1", &[]))).await;
    send(
        &app,
        post(
            "/api/releases",
            &release("2", "hello:2", &[("rollout", "failed")]),
        ),
    )
    .await;
    let deploy = |version: &str| {
        post(
            "/api/deployments?wait=10",
            &json!({"service": "hello", "version": version, "context": "sandbox",
                    "autoRollback": true}),
        )
    };
    let (_, _, first) = send(&app, deploy("1")).await;
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["autoRollback"], true);
    assert!(first["rolledBackBy"].is_null());

    let (_, _, failed) = send(&app, deploy("2")).await;
    assert_eq!(failed["status"], "failed");
    let failed_id = failed["id"].as_str().unwrap().to_owned();
    let failed = wait_until(&app, &failed_id, |d| d["rolledBackBy"].is_string()).await;
    let rollback_id = failed["rolledBackBy"].as_str().unwrap().to_owned();
    assert!(
        log_lines(&failed).last().unwrap().starts_with(&format!(
            "rolled back by deployment {rollback_id} of release 1"
        )),
        "{failed}"
    );
    let rollback = wait_until(&app, &rollback_id, |d| d["status"] == "succeeded").await;
    assert_eq!(rollback["rollback"], true);
    assert_eq!(rollback["release"]["version"], "1");
    assert_eq!(rollback["createdBy"], "admin");
    let image = harness
        .sandbox
        .object("default", "Deployment", "hello")
        .unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
        .clone();
    assert_eq!(image, "hello:1", "the previous release runs again");
    let (_, _, audit) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/audit?resourceId={rollback_id}")),
    )
    .await;
    assert_eq!(audit["items"][0]["actor"], "kubernaut-server");
    assert_eq!(
        audit["items"][0]["details"]["autoRollbackOf"],
        failed_id.as_str()
    );
}

const TWO_OBJECTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
{{#extra}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-extra
data:
  extra: \"{{extra}}\"
{{/extra}}
";

#[actix_web::test]
async fn dry_run_prune_and_live_objects_follow_the_service_applyset() {
    let db = TestDatabase::sqlite();
    let harness = Harness::new(&db, Duration::from_secs(5)).await;
    let app = app(harness.state.clone()).await;
    let release = |version: &str, extra: Option<&str>| {
        let mut attributes = json!({"image": format!("web:{version}")});
        if let Some(extra) = extra {
            attributes["extra"] = json!(extra);
        }
        post(
            "/api/releases",
            &json!({"service": "web", "version": version, "template": TWO_OBJECTS,
                    "attributes": attributes}),
        )
    };
    send(&app, release("1", Some("yes"))).await;
    send(&app, release("2", None)).await;
    let deploy = |version: &str, query: &str, prune: bool| {
        post(
            &format!("/api/deployments{query}"),
            &json!({"service": "web", "version": version, "context": "sandbox", "prune": prune}),
        )
    };

    // A dry run of the first release: everything would be created; nothing is stored.
    let (status, _, dry) = send(&app, deploy("1", "?dryRun=true", true)).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let actions: Vec<(String, String)> = dry["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_owned(),
                o["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("ConfigMap".to_owned(), "create".to_owned()),
            ("Deployment".to_owned(), "create".to_owned())
        ]
    );
    assert!(dry["manifest"].as_str().unwrap().contains("web-extra"));
    let (_, _, none) = send(&app, test::TestRequest::get().uri("/api/deployments")).await;
    assert_eq!(none["count"], 0, "a dry run stores nothing");
    assert!(
        harness
            .sandbox
            .object("default", "Deployment", "web")
            .is_none()
    );
    let (status, _, body) = send(&app, deploy("1", "?dryRun=true&wait=5", true)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (_, _, first) = send(&app, deploy("1", "?wait=10", true)).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    // An object of the same kind and namespace that kubernaut never applied.
    let (_, _, services) = send(&app, test::TestRequest::get().uri("/api/services?name=web")).await;
    let service_id = services["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, live) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/services/{service_id}/live?context=sandbox")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{live}");
    let mut live_objects: Vec<(String, String)> = live["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                ),
                o["health"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    live_objects.sort();
    assert_eq!(
        live_objects,
        [
            ("ConfigMap/web-extra".to_owned(), "healthy".to_owned()),
            ("Deployment/web".to_owned(), "healthy".to_owned())
        ]
    );

    // Release 2 drops the ConfigMap: the dry run says it would be pruned.
    let (_, _, dry) = send(&app, deploy("2", "?dryRun=true", true)).await;
    let pruned: Vec<&Value> = dry["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["action"] == "prune")
        .collect();
    assert_eq!(pruned.len(), 1, "{dry}");
    assert_eq!(pruned[0]["name"], "web-extra");
    let configured = dry["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(configured["action"], "configure");
    assert!(
        configured["diff"].as_str().unwrap().contains("web:2"),
        "{configured}"
    );
    let (_, _, kept) = send(&app, deploy("2", "?dryRun=true", false)).await;
    assert!(
        kept["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["action"] != "prune"),
        "prune: false prunes nothing: {kept}"
    );

    // Deploying it with prune: false keeps the ConfigMap; with prune it goes.
    let (_, _, second) = send(&app, deploy("2", "?wait=10", false)).await;
    assert_eq!(second["status"], "succeeded");
    assert_eq!(second["prune"], false);
    assert!(
        harness
            .sandbox
            .object("default", "ConfigMap", "web-extra")
            .is_some()
    );
    let (_, _, third) = send(&app, deploy("2", "?wait=10", true)).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    assert!(
        log_lines(&third).contains(&"configmap/web-extra pruned".to_owned()),
        "{third}"
    );
    assert!(
        harness
            .sandbox
            .object("default", "ConfigMap", "web-extra")
            .is_none()
    );
    assert!(
        harness
            .sandbox
            .object("default", "Deployment", "web")
            .is_some()
    );

    let (status, _, body) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/services/{service_id}/live")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(message(&body), "context is required");

    // An object that cannot carry the member label is the request's fault: 400, not 503.
    let bad_labels = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\n  labels: oops\n";
    let (status, _, body) = send(
        &app,
        post(
            "/api/releases",
            &json!({"service": "odd", "version": "1", "template": bad_labels, "attributes": {}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = send(
        &app,
        post(
            "/api/deployments?dryRun=true",
            &json!({"service": "odd", "version": "1", "context": "sandbox"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        message(&body),
        "configmap/odd cannot be applied: metadata.labels is not a mapping"
    );
}
