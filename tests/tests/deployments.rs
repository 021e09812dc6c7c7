//! Deploying through the real `kubernaut-server` binary to its built-in sandbox context.

use std::thread::sleep;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{Server, admin_client};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

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
";

fn release(client: &Client, server: &Server, version: &str, rollout: Option<&str>) -> Value {
    let mut attributes = json!({"image": format!("hello:{version}")});
    if let Some(rollout) = rollout {
        attributes["rollout"] = json!(rollout);
    }
    let response = client
        .post(server.url("/api/releases"))
        .json(&json!({"service": "hello", "version": version, "template": TEMPLATE, "attributes": attributes}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().unwrap()
}

fn deploy(client: &Client, server: &Server, body: &Value, query: &str) -> (StatusCode, Value) {
    let response = client
        .post(server.url(&format!("/api/deployments{query}")))
        .json(body)
        .send()
        .unwrap();
    (response.status(), response.json().unwrap())
}

fn get(client: &Client, server: &Server, path: &str) -> Value {
    client.get(server.url(path)).send().unwrap().json().unwrap()
}

fn sandbox_release_deploy_and_roll_back(db: &TestDatabase) {
    let client = admin_client();
    let server = Server::start_with(db.url(), &["--sandbox"], &[]);
    let contexts = get(&client, &server, "/api/contexts");
    assert_eq!(
        contexts["items"],
        json!([{"name": "sandbox", "kind": "sandbox"}])
    );

    let first = release(&client, &server, "1", None);
    release(&client, &server, "2", None);
    let (status, deployed) = deploy(
        &client,
        &server,
        &json!({"service": "hello", "version": "2", "context": "sandbox"}),
        "?wait=30",
    );
    assert_eq!(status, StatusCode::OK, "{deployed}");
    assert_eq!(deployed["status"], "succeeded", "{deployed}");

    let (status, rollback) = deploy(
        &client,
        &server,
        &json!({"release": first["id"], "context": "sandbox"}),
        "?wait=30",
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rollback["status"], "succeeded", "{rollback}");
    let log: Vec<&str> = rollback["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["content"].as_str().unwrap())
        .collect();
    assert!(log.contains(&"deployment.apps/hello configured"), "{log:?}");

    let service_id = first["service"]["id"].as_str().unwrap();
    let service = get(&client, &server, &format!("/api/services/{service_id}"));
    assert_eq!(
        service["latestDeployments"]["sandbox"]["release"]["version"],
        "1"
    );
}

fn a_killed_server_leaves_no_deployment_in_flight(db: &TestDatabase) {
    let client = admin_client();
    let env = [
        ("KUBERNAUT__WORKER__LEASE_SECS", "1"),
        ("KUBERNAUT__WORKER__ROLLOUT_TIMEOUT_SECS", "3"),
        ("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "100"),
        ("KUBERNAUT__WORKER__POLL_INTERVAL_MS", "100"),
    ];
    let server = Server::start_with(db.url(), &["--sandbox"], &env);
    release(&client, &server, "1", Some("progressing"));
    let (status, pending) = deploy(
        &client,
        &server,
        &json!({"service": "hello", "version": "1", "context": "sandbox"}),
        "",
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let path = format!("/api/deployments/{}", pending["id"].as_str().unwrap());
    let rolling_out = wait_for(&client, &server, &path, |d| d["status"] == "rolling_out");
    assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");
    server.kill();

    let server = Server::start_with(db.url(), &["--sandbox"], &env);
    let ended = wait_for(&client, &server, &path, |d| {
        d["status"] == "succeeded" || d["status"] == "failed"
    });
    assert_eq!(ended["status"], "failed", "{ended}");
    let error = ended["error"].as_str().unwrap();
    assert!(
        error.starts_with("deployment.apps/hello did not roll out within 3s"),
        "{error}"
    );
    let resumed = ended["log"].as_array().unwrap().iter().any(|line| {
        line["content"]
            .as_str()
            .unwrap()
            .contains("resumed by worker")
    });
    assert!(resumed, "{ended}");
}

/// Reads `path` until `done` holds or 30 s passed; the last body.
fn wait_for(client: &Client, server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = get(client, server, path);
        if done(&body) || Instant::now() > deadline {
            return body;
        }
        sleep(Duration::from_millis(100));
    }
}

kubernaut_tests::on_both_backends!(
    sandbox_release_deploy_and_roll_back,
    a_killed_server_leaves_no_deployment_in_flight,
);
