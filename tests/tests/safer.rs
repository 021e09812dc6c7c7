//! Safer deployments through the real `kubernaut-server` binary and its sandbox context, on both
//! backends: dry run, pruning and live objects; cancel, rollback and automatic rollback, with
//! their audit events.

use std::thread::sleep;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{Server, admin_client};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// A Deployment, rolled out as the `rollout` attribute says, and with an `extra` attribute a
/// ConfigMap beside it.
const TEMPLATE: &str = "apiVersion: apps/v1
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
{{#extra}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-extra
data:
  extra: \"{{extra}}\"
{{/extra}}
";

/// A sandbox server, and the admin's client.
struct Fixture {
    server: Server,
    client: Client,
}

impl Fixture {
    fn new(db: &TestDatabase, env: &[(&str, &str)]) -> Self {
        Self {
            server: Server::start_with(db.url(), &["--sandbox"], env),
            client: admin_client(),
        }
    }

    /// Releases `hello` `version` with the attributes `extra` adds to its image.
    fn release(&self, version: &str, extra: Value) -> Value {
        let mut attributes = json!({"image": format!("hello:{version}")});
        attributes
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, body) = self.post(
            "/api/releases",
            &json!({"service": "hello", "version": version, "template": TEMPLATE,
                    "attributes": attributes}),
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.server.url(path))
            .json(body)
            .send()
            .unwrap();
        (response.status(), response.json().unwrap())
    }

    fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.server.url(path)).send().unwrap();
        (response.status(), response.json().unwrap())
    }

    /// Reads deployment `id` until `done` holds or 30 s passed; the last body.
    fn wait_for(&self, id: &Value, done: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/api/deployments/{}", id.as_str().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, body) = self.get(&path);
            if done(&body) || Instant::now() > deadline {
                return body;
            }
            sleep(Duration::from_millis(100));
        }
    }
}

/// The `action kind/name` of each object of a dry run, in its order.
fn actions(dry_run: &Value) -> Vec<String> {
    dry_run["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{} {}/{}", o["action"], o["kind"], o["name"]).replace('"', ""))
        .collect()
}

fn log_lines(deployment: &Value) -> Vec<&str> {
    deployment["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["content"].as_str().unwrap())
        .collect()
}

fn dry_run_prune_and_live_objects(db: &TestDatabase) {
    let fixture = Fixture::new(db, &[]);
    let first = fixture.release("1", json!({"extra": "yes"}));
    fixture.release("2", json!({}));
    let deploy = |version: &str, query: &str, prune: bool| {
        fixture.post(
            &format!("/api/deployments{query}"),
            &json!({"service": "hello", "version": version, "context": "sandbox", "prune": prune}),
        )
    };

    let (status, dry) = deploy("1", "?dryRun=true", true);
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        actions(&dry),
        ["create ConfigMap/hello-extra", "create Deployment/hello"]
    );
    let (_, deployments) = fixture.get("/api/deployments");
    assert_eq!(deployments["count"], 0, "a dry run stores nothing");
    let service_id = first["service"]["id"].as_str().unwrap();
    let live_path = format!("/api/services/{service_id}/live?context=sandbox");
    let (status, live) = fixture.get(&live_path);
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["objects"], json!([]), "a dry run applies nothing");

    let (_, deployed) = deploy("1", "?wait=30", true);
    assert_eq!(deployed["status"], "succeeded", "{deployed}");
    let (_, live) = fixture.get(&live_path);
    let mut health: Vec<String> = live["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}/{} {}", o["kind"], o["name"], o["health"]).replace('"', ""))
        .collect();
    health.sort();
    assert_eq!(
        health,
        ["ConfigMap/hello-extra healthy", "Deployment/hello healthy"]
    );
    let (_, unchanged) = deploy("1", "?dryRun=true", true);
    assert_eq!(
        actions(&unchanged),
        [
            "unchanged ConfigMap/hello-extra",
            "unchanged Deployment/hello"
        ]
    );

    // Release 2 drops the ConfigMap: a dry run shows the new image and the prune.
    let (_, dry) = deploy("2", "?dryRun=true", true);
    assert_eq!(
        actions(&dry),
        ["configure Deployment/hello", "prune ConfigMap/hello-extra"]
    );
    let diff = dry["objects"][0]["diff"].as_str().unwrap();
    assert!(
        diff.starts_with(
            "--- live/apps.v1.Deployment.default.hello\n+++ merged/apps.v1.Deployment.default.hello\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("\n-      - image: hello:1\n+      - image: hello:2\n"),
        "{diff}"
    );
    let (_, kept) = deploy("2", "?dryRun=true", false);
    assert_eq!(actions(&kept), ["configure Deployment/hello"]);

    let (_, second) = deploy("2", "?wait=30", true);
    assert_eq!(second["status"], "succeeded", "{second}");
    assert!(
        log_lines(&second).contains(&"configmap/hello-extra pruned"),
        "{second}"
    );
    let (_, live) = fixture.get(&live_path);
    assert_eq!(live["objects"].as_array().unwrap().len(), 1, "{live}");
    assert_eq!(live["objects"][0]["name"], "hello", "{live}");

    let (status, refused) =
        fixture.get(&format!("/api/services/{service_id}/live?context=nowhere"));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}

fn cancel_rollback_and_automatic_rollback(db: &TestDatabase) {
    // A rollout that never finishes would fail only after 5 minutes: a cancel must not wait.
    let env = [
        ("KUBERNAUT__WORKER__ROLLOUT_TIMEOUT_SECS", "300"),
        ("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "100"),
        ("KUBERNAUT__WORKER__POLL_INTERVAL_MS", "100"),
    ];
    let fixture = Fixture::new(db, &env);
    fixture.release("1", json!({}));
    fixture.release("2", json!({"rollout": "progressing"}));
    fixture.release("3", json!({"rollout": "failed"}));
    let deploy = |body: Value, query: &str| {
        let mut request = json!({"service": "hello", "context": "sandbox"});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        fixture.post(&format!("/api/deployments{query}"), &request)
    };

    let (status, conflict) = deploy(json!({"rollback": true}), "");
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "nothing to roll back to: {conflict}"
    );
    let (_, good) = deploy(json!({"version": "1"}), "?wait=30");
    assert_eq!(good["status"], "succeeded", "{good}");

    let (status, stuck) = deploy(json!({"version": "2"}), "");
    assert_eq!(status, StatusCode::ACCEPTED, "{stuck}");
    let rolling_out = fixture.wait_for(&stuck["id"], |d| d["status"] == "rolling_out");
    assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");
    let cancel_path = format!("/api/deployments/{}/cancel", stuck["id"].as_str().unwrap());
    let (status, canceling) = fixture.post(&cancel_path, &json!({}));
    assert_eq!(status, StatusCode::ACCEPTED, "{canceling}");
    let canceled = fixture.wait_for(&stuck["id"], |d| d["status"] == "canceled");
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert!(
        log_lines(&canceled).contains(&"canceled by admin; the objects applied before stay"),
        "{canceled}"
    );
    let (status, ended) = fixture.post(&cancel_path, &json!({}));
    assert_eq!(status, StatusCode::CONFLICT, "{ended}");

    // After a cancel, a rollback puts back the last good release, and the lane runs it.
    let (_, rollback) = deploy(json!({"rollback": true}), "?wait=30");
    assert_eq!(rollback["status"], "succeeded", "{rollback}");
    assert_eq!(rollback["rollback"], true);
    assert_eq!(rollback["release"]["version"], "1");

    let (_, failed) = deploy(json!({"version": "3", "autoRollback": true}), "?wait=30");
    assert_eq!(failed["status"], "failed", "{failed}");
    let failed = fixture.wait_for(&failed["id"], |d| !d["rolledBackBy"].is_null());
    let restored = fixture.wait_for(&failed["rolledBackBy"], |d| d["status"] == "succeeded");
    assert_eq!(restored["status"], "succeeded", "{restored}");
    assert_eq!(restored["rollback"], true);
    assert_eq!(restored["release"]["version"], "1", "{restored}");
    // Made by the server on behalf of whoever deployed the failed release.
    assert_eq!(restored["createdBy"], "admin", "{restored}");

    let (_, cancels) = fixture.get("/api/audit?action=deployment.cancel");
    assert_eq!(cancels["count"], 1, "{cancels}");
    assert_eq!(cancels["items"][0]["actor"], "admin");
    assert_eq!(cancels["items"][0]["resourceId"], stuck["id"]);
    let (_, automatic) = fixture.get("/api/audit?action=deployment.create&actor=kubernaut-server");
    assert_eq!(automatic["count"], 1, "{automatic}");
    assert_eq!(automatic["items"][0]["resourceId"], restored["id"]);
    let (_, verify) = fixture.get("/api/audit/verify");
    assert_eq!(verify["ok"], true, "{verify}");
}

kubernaut_tests::on_both_backends!(
    dry_run_prune_and_live_objects,
    cancel_rollback_and_automatic_rollback,
);
