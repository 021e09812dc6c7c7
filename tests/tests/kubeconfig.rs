//! The real binary deploying through `--kubeconfig` to a Kubernetes API served on loopback
//! (kube-fake-client behind a small HTTP server): the kubeconfig path, kube-rs client and
//! server-side apply, ApplySet pruning and live objects, end to end. The test plays the
//! Deployment controller.

use std::thread::sleep;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::loopback_api::{ApiRequest, CONTEXT, LoopbackApi};
use kubernaut_tests::{Server, admin_client};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

const TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-config
data:
  version: \"{{version}}\"
---
apiVersion: v1
kind: Service
metadata:
  name: {{service}}
spec:
  selector:
    app: {{service}}
  ports:
    - port: 80
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

const ENV: [(&str, &str); 2] = [
    ("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "100"),
    ("KUBERNAUT__WORKER__POLL_INTERVAL_MS", "100"),
];

fn start(db: &TestDatabase, api: &LoopbackApi) -> Server {
    let kubeconfig = api.kubeconfig().to_str().unwrap().to_owned();
    Server::start_with(db.url(), &["--kubeconfig", &kubeconfig], &ENV)
}

/// Creates release `version` of `hello` and deploys it to the loopback context; the
/// deployment's path.
fn release_and_deploy(client: &Client, server: &Server, version: &str) -> String {
    release_and_deploy_service(client, server, "hello", version)
}

/// Creates release `version` of `service` and deploys it to the loopback context; the
/// deployment's path.
fn release_and_deploy_service(
    client: &Client,
    server: &Server,
    service: &str,
    version: &str,
) -> String {
    let response = client
        .post(server.url("/api/releases"))
        .json(&json!({
            "service": service, "namespace": "team", "version": version, "template": TEMPLATE,
            "attributes": {"image": format!("registry.example.com/{service}:{version}")},
        }))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client
        .post(server.url("/api/deployments"))
        .json(&json!({"service": service, "namespace": "team", "version": version, "context": CONTEXT}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.headers()["location"].to_str().unwrap().to_owned()
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

fn log(deployment: &Value) -> Vec<String> {
    deployment["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["content"].as_str().unwrap().to_owned())
        .collect()
}

fn a_deployment_is_applied_through_the_kubeconfig_and_rolls_out(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let server = start(db, &api);
    let client = admin_client();

    let contexts: Value = client
        .get(server.url("/api/contexts"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        contexts["items"],
        json!([{"name": CONTEXT, "kind": "kubeconfig"}])
    );

    let path = release_and_deploy(&client, &server, "1");
    let rolling_out = wait_for(&client, &server, &path, |d| {
        d["status"] == "rolling_out" || ended(d)
    });
    assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");

    let config = api.get("", "ConfigMap", "team", "hello-config").unwrap();
    assert_eq!(config["data"]["version"], "1");
    assert_eq!(config["metadata"]["namespace"], "team");
    let deployment = api.get("apps", "Deployment", "team", "hello").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/hello:1"
    );
    assert!(api.get("", "Service", "team", "hello").is_some());

    api.roll_out_deployment("team", "hello", 2);
    let done = wait_for(&client, &server, &path, ended);
    assert_eq!(done["status"], "succeeded", "{done}");
    let lines = log(&done);
    for expected in [
        "configmap/hello-config created",
        "service/hello created",
        "deployment.apps/hello created",
        "deployment.apps/hello rolled out",
    ] {
        assert!(
            lines.contains(&expected.to_owned()),
            "{expected}: {lines:?}"
        );
    }
    let position = |line: &str| lines.iter().position(|l| l == line).unwrap();
    assert!(
        position("configmap/hello-config created") < position("service/hello created")
            && position("service/hello created") < position("deployment.apps/hello created"),
        "applied in order: {lines:?}"
    );
}

fn a_progress_deadline_exceeded_fails_the_deployment(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let server = start(db, &api);
    let client = admin_client();
    let path = release_and_deploy(&client, &server, "1");
    let rolling_out = wait_for(&client, &server, &path, |d| {
        d["status"] == "rolling_out" || ended(d)
    });
    assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");

    api.set_deployment_status(
        "team",
        "hello",
        json!({
            "replicas": 2, "updatedReplicas": 2, "availableReplicas": 0,
            "conditions": [{
                "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"hello-5d4f\" has timed out progressing."
            }]
        }),
    );
    let failed = wait_for(&client, &server, &path, ended);
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("deployment.apps/hello failed to roll out: "),
        "{error}"
    );
    assert!(error.contains("has timed out progressing"), "{error}");
}

/// Whether `request` reads Deployments of namespace `team`; with the Deployment's name when it
/// reads one alone.
fn deployment_read(request: &ApiRequest) -> Option<Option<&str>> {
    let rest = request
        .path
        .strip_prefix("/apis/apps/v1/namespaces/team/deployments")?;
    (request.method == "GET").then(|| rest.strip_prefix('/'))
}

fn rollouts_waited_on_together_are_read_with_one_list_per_poll(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let server = start(db, &api);
    let client = admin_client();
    let services: Vec<String> = (0..12).map(|n| format!("web-{n}")).collect();
    let paths: Vec<String> = services
        .iter()
        .map(|service| release_and_deploy_service(&client, &server, service, "1"))
        .collect();
    for path in &paths {
        let rolling_out = wait_for(&client, &server, path, |d| {
            d["status"] == "rolling_out" || ended(d)
        });
        assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");
    }

    // Each deployment reads its workload once on its own, right after it is rolling_out; then
    // the twelve wait in one namespace for a second, polling every 100 ms.
    sleep(Duration::from_millis(300));
    let before = api.requests().len();
    sleep(Duration::from_secs(1));
    let waiting = api.requests()[before..].to_vec();
    let reads: Vec<Option<&str>> = waiting.iter().filter_map(deployment_read).collect();
    assert!(!reads.is_empty(), "{waiting:?}");
    assert!(
        reads.iter().all(Option::is_none),
        "every read lists the namespace's Deployments: {waiting:?}"
    );
    // About ten polls of one list; reading each of the twelve would take 120.
    assert!(reads.len() <= 30, "{} reads: {waiting:?}", reads.len());

    for service in &services {
        api.roll_out_deployment("team", service, 2);
    }
    for (service, path) in services.iter().zip(&paths) {
        let done = wait_for(&client, &server, path, ended);
        assert_eq!(done["status"], "succeeded", "{done}");
        let rolled_out = format!("deployment.apps/{service} rolled out");
        assert!(log(&done).contains(&rolled_out), "{done}");
    }
}

/// The ConfigMap of [`TEMPLATE`], only while the `config` attribute is set, and a Deployment.
const PRUNED_TEMPLATE: &str = "{{#config}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-config
data:
  config: \"{{config}}\"
---
{{/config}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  replicas: 1
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

fn a_config_map(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": namespace}, "data": {"owner": "someone else"}})
}

fn prune_and_live_objects_go_through_the_applyset(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let server = start(db, &api);
    let client = admin_client();
    // Not members: one named like the member to be dropped, in another namespace; one beside
    // the members.
    api.apply(&a_config_map("other", "hello-config"));
    api.apply(&a_config_map("team", "hello-notes"));

    let release = |version: &str, attributes: Value| -> Value {
        let response = client
            .post(server.url("/api/releases"))
            .json(
                &json!({"service": "hello", "namespace": "team", "version": version,
                          "template": PRUNED_TEMPLATE, "attributes": attributes}),
            )
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().unwrap()
    };
    let deploy = |version: &str| -> Value {
        let response = client
            .post(server.url("/api/deployments"))
            .json(
                &json!({"service": "hello", "namespace": "team", "version": version,
                          "context": CONTEXT}),
            )
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let path = response.headers()["location"].to_str().unwrap().to_owned();
        let rolling_out = wait_for(&client, &server, &path, |d| {
            d["status"] == "rolling_out" || ended(d)
        });
        assert_eq!(rolling_out["status"], "rolling_out", "{rolling_out}");
        api.roll_out_deployment("team", "hello", 1);
        wait_for(&client, &server, &path, ended)
    };
    let first = release("1", json!({"image": "hello:1", "config": "on"}));
    release("2", json!({"image": "hello:2"}));

    let deployed = deploy("1");
    assert_eq!(deployed["status"], "succeeded", "{deployed}");
    let parent = api.get("", "Secret", "team", "kubernaut-hello").unwrap();
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .unwrap();
    assert!(
        id.starts_with("applyset-") && id.ends_with("-v1"),
        "{parent}"
    );
    let annotations = &parent["metadata"]["annotations"];
    assert_eq!(
        annotations["applyset.kubernetes.io/tooling"],
        "kubernaut/v1"
    );
    assert_eq!(
        annotations["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps"
    );
    for (group, kind, name) in [
        ("", "ConfigMap", "hello-config"),
        ("apps", "Deployment", "hello"),
    ] {
        let member = api.get(group, kind, "team", name).unwrap();
        assert_eq!(
            member["metadata"]["labels"]["applyset.kubernetes.io/part-of"], id,
            "{member}"
        );
    }

    let service_id = first["service"]["id"].as_str().unwrap();
    let live: Value = client
        .get(server.url(&format!(
            "/api/services/{service_id}/live?context={CONTEXT}"
        )))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut health: Vec<String> = live["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}/{} {}", o["kind"], o["name"], o["health"]).replace('"', ""))
        .collect();
    health.sort();
    assert_eq!(
        health,
        ["ConfigMap/hello-config healthy", "Deployment/hello healthy"],
        "{live}"
    );

    let second = deploy("2");
    assert_eq!(second["status"], "succeeded", "{second}");
    assert!(
        log(&second).contains(&"configmap/hello-config pruned".to_owned()),
        "{second}"
    );
    assert!(api.get("", "ConfigMap", "team", "hello-config").is_none());
    assert!(api.get("apps", "Deployment", "team", "hello").is_some());
    assert!(api.get("", "ConfigMap", "other", "hello-config").is_some());
    assert!(api.get("", "ConfigMap", "team", "hello-notes").is_some());
    let parent = api.get("", "Secret", "team", "kubernaut-hello").unwrap();
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "Deployment.apps"
    );
}

kubernaut_tests::on_both_backends!(
    a_deployment_is_applied_through_the_kubeconfig_and_rolls_out,
    a_progress_deadline_exceeded_fails_the_deployment,
    prune_and_live_objects_go_through_the_applyset,
    rollouts_waited_on_together_are_read_with_one_list_per_poll,
);
