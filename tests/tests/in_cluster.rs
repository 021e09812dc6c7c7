//! The real binary as if it ran in a pod: `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`
//! set and a ServiceAccount directory (a temporary one with `token` and `namespace`), its
//! in-cluster context reaching the Kubernetes API served on loopback (kube-fake-client behind a
//! small HTTP server; plain HTTP through `cluster.in_cluster_api_url`, so no CA). The test plays
//! the Deployment controller.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::loopback_api::LoopbackApi;
use kubernaut_tests::{Server, admin_client, run_to_exit_with};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use tempfile::TempDir;

const TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-config
data:
  version: \"{{version}}\"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  replicas: 2
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
          image: \"{{image}}\"
";

/// The ServiceAccount token the pod would have (as Kubernetes writes it: no final newline).
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.in-cluster-service-account.signature";

/// A ServiceAccount directory with `token` and `namespace`.
fn service_account() -> TempDir {
    let dir = tempfile::tempdir().expect("a ServiceAccount directory");
    std::fs::write(dir.path().join("token"), TOKEN).expect("write the token");
    std::fs::write(dir.path().join("namespace"), "kubernaut").expect("write the namespace");
    dir
}

/// The environment of a pod whose API server is `api`, with the ServiceAccount in `dir`, and
/// no kubeconfig.
fn pod_env(api: &LoopbackApi, dir: &Path) -> Vec<(String, String)> {
    vec![
        ("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into()),
        ("KUBERNETES_SERVICE_PORT".into(), api.port().to_string()),
        (
            "KUBERNAUT__CLUSTER__SERVICE_ACCOUNT_DIR".into(),
            dir.to_str().unwrap().into(),
        ),
        ("KUBERNAUT__CLUSTER__IN_CLUSTER_API_URL".into(), api.url()),
        (
            "KUBECONFIG".into(),
            dir.join("no-kubeconfig").to_str().unwrap().into(),
        ),
        ("KUBERNAUT__WORKER__ROLLOUT_POLL_MS".into(), "100".into()),
        ("KUBERNAUT__WORKER__POLL_INTERVAL_MS".into(), "100".into()),
    ]
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Reads `path` until `done` holds or 30 s passed; the last body.
fn wait_for(client: &Client, server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: Value = client.get(server.url(path)).send().unwrap().json().unwrap();
        if done(&body) || Instant::now() > deadline {
            return body;
        }
        sleep(Duration::from_millis(100));
    }
}

fn ended(deployment: &Value) -> bool {
    deployment["status"] == "succeeded" || deployment["status"] == "failed"
}

fn the_in_cluster_context_is_listed_and_deployed_to(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let dir = service_account();
    let env = pod_env(&api, dir.path());
    let server = Server::start_with(db.url(), &[], &as_refs(&env));
    let client = admin_client();

    let contexts: Value = client
        .get(server.url("/api/contexts"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        contexts["items"],
        json!([{"name": "in-cluster", "kind": "in-cluster"}])
    );

    let response = client
        .post(server.url("/api/releases"))
        .json(&json!({
            "service": "hello", "namespace": "team", "version": "1", "template": TEMPLATE,
            "attributes": {"image": "registry.example.com/hello:1"},
        }))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client
        .post(server.url("/api/deployments"))
        .json(&json!({"service": "hello", "namespace": "team", "version": "1", "context": "in-cluster"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let path = response.headers()["location"].to_str().unwrap().to_owned();

    let rolling_out = wait_for(&client, &server, &path, |d| {
        d["status"] == "rolling_out" || ended(d)
    });
    assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");
    let config = api.get("", "ConfigMap", "team", "hello-config").unwrap();
    assert_eq!(config["data"]["version"], "1");
    let deployment = api.get("apps", "Deployment", "team", "hello").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/hello:1"
    );

    api.roll_out_deployment("team", "hello", 2);
    let done = wait_for(&client, &server, &path, ended);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["context"], "in-cluster");

    // Every request the server made carried the ServiceAccount token.
    let authorizations = api.authorizations();
    assert!(!authorizations.is_empty());
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        authorizations
            .iter()
            .all(|header| header.as_deref() == Some(bearer.as_str())),
        "{authorizations:?}"
    );
}

/// The one line a failed start-up printed as its error (log lines aside).
fn start_up_error(args: &[&str], env: &[(String, String)]) -> String {
    let run = run_to_exit_with(args, &as_refs(env));
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("kubernaut-server: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    errors[0].to_owned()
}

#[test]
fn a_kubeconfig_context_named_like_the_in_cluster_one_stops_start_up() {
    let db = TestDatabase::sqlite();
    let api = LoopbackApi::start();
    let dir = service_account();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n\
             contexts:\n- name: in-cluster\n  context:\n    cluster: c\n    user: u\n\
             users:\n- name: u\n  user: {{}}\n",
            api.url()
        ),
    )
    .unwrap();
    let error = start_up_error(
        &[
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            db.url(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
        &pod_env(&api, dir.path()),
    );
    assert_eq!(
        error,
        "kubernaut-server: cannot use kubeconfig context \"in-cluster\": the in-cluster context \
         (the cluster kubernaut runs in) has this name; rename the kubeconfig context, or rename \
         or disable the in-cluster context"
    );
}

#[test]
fn a_required_in_cluster_context_without_its_token_stops_start_up() {
    let db = TestDatabase::sqlite();
    let api = LoopbackApi::start();
    let dir = tempfile::tempdir().unwrap();
    let mut env = pod_env(&api, dir.path());
    env.push(("KUBERNAUT__CLUSTER__IN_CLUSTER".into(), "on".into()));
    let error = start_up_error(
        &["--listen", "127.0.0.1:0", "--database-url", db.url()],
        &env,
    );
    assert_eq!(
        error,
        format!(
            "kubernaut-server: cannot use the in-cluster context \"in-cluster\": cannot read {}: \
             No such file or directory (os error 2)",
            dir.path().join("token").display()
        )
    );
}

kubernaut_tests::on_both_backends!(the_in_cluster_context_is_listed_and_deployed_to);
