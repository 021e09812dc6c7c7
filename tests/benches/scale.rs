//! Deployments at scale, against the real binary:
//!
//! 1. Kubernetes API requests per deployment while N deployments (1, 10, 100) roll out at once
//!    in one namespace of the loopback API (kube-fake-client over HTTP): each waits about ten
//!    polls (2 s at `rollout_poll_ms = 200`) before the test rolls every Deployment out. The
//!    requests are counted from the first deployment posted to the last success.
//! 2. On the sandbox, with ROLLOUTS (default 1,000) slow rollouts of other services in progress
//!    (`kubernaut.io/sandbox-rollout: progressing`, timeout 1 h, workers as shipped): the time
//!    from posting a deployment of an idle service to reading it `succeeded` (20 samples, read
//!    every 5 ms), and the server's resident memory: idle, after ROLLOUTS finished deployments
//!    of other services, and with the rollouts besides.
//!
//! On SQLite, and on PostgreSQL when `KUBERNAUT_TEST_DATABASE_URL` is set; the server is built
//! with the bench's profile (release).
//!
//! `cargo bench -p kubernaut-tests --bench scale [-- ROLLOUTS]`

use std::thread::sleep;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::loopback_api::{CONTEXT, LoopbackApi};
use kubernaut_tests::{Server, admin_client};
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
  annotations:
    kubernaut.io/sandbox-rollout: \"{{rollout}}\"
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
          image: registry.example.com/{{service}}:{{version}}
";

/// Posts a release of `service` and deploys it to `context`; the deployment's path.
fn deploy(client: &Client, server: &Server, service: &str, context: &str, rollout: &str) -> String {
    let release = json!({
        "service": service, "namespace": "team", "version": "1", "template": TEMPLATE,
        "attributes": {"rollout": rollout},
    });
    let response = client
        .post(server.url("/api/releases"))
        .json(&release)
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap()
    );
    let deployment =
        json!({"service": service, "namespace": "team", "version": "1", "context": context});
    let response = client
        .post(server.url("/api/deployments"))
        .json(&deployment)
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap()
    );
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn status(client: &Client, server: &Server, path: &str) -> String {
    let body: Value = client.get(server.url(path)).send().unwrap().json().unwrap();
    body["status"].as_str().unwrap_or_default().to_owned()
}

/// How many deployments have `status`.
fn count(client: &Client, server: &Server, status: &str) -> u64 {
    let path = format!("/api/deployments?status={status}&limit=1");
    let body: Value = client
        .get(server.url(&path))
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["count"].as_u64().unwrap()
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} took more than {within:?}"
        );
        sleep(Duration::from_millis(20));
    }
}

fn requests_per_deployment(db: &TestDatabase) {
    let api = LoopbackApi::start();
    let kubeconfig = api.kubeconfig().to_str().unwrap().to_owned();
    let env = [("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "200")];
    let server = Server::start_with(db.url(), &["--kubeconfig", &kubeconfig], &env);
    let client = admin_client();
    for n in [1, 10, 100] {
        let services: Vec<String> = (0..n).map(|i| format!("api-{n}-{i}")).collect();
        let before = api.requests().len();
        let paths: Vec<String> = services
            .iter()
            .map(|service| deploy(&client, &server, service, CONTEXT, "done"))
            .collect();
        wait_until("rolling out", Duration::from_secs(120), || {
            paths
                .iter()
                .all(|path| status(&client, &server, path) == "rolling_out")
        });
        let waiting_from = api.requests().len();
        sleep(Duration::from_secs(2));
        let waiting = api.requests().len() - waiting_from;
        for service in &services {
            api.roll_out_deployment("team", service, 1);
        }
        wait_until("succeeded", Duration::from_secs(120), || {
            paths
                .iter()
                .all(|path| status(&client, &server, path) == "succeeded")
        });
        let total = api.requests().len() - before;
        println!(
            "  {n:>3} rollouts at once: {:.1} API requests per deployment; {waiting} while all \
             waited 2 s (about 10 polls)",
            total as f64 / n as f64
        );
    }
}

fn idle_lane_behind_slow_rollouts(db: &TestDatabase, rollouts: usize) {
    let env = [("KUBERNAUT__WORKER__ROLLOUT_TIMEOUT_SECS", "3600")];
    let server = Server::start_with(db.url(), &["--sandbox"], &env);
    let client = admin_client();
    let idle_rss = server.rss_kib().unwrap_or_default();
    // As many finished deployments first, to tell what the watching costs from what the
    // sandbox's objects and the server's caches do.
    let finished: Vec<String> = (0..rollouts)
        .map(|i| deploy(&client, &server, &format!("done-{i}"), "sandbox", "done"))
        .collect();
    wait_until("succeeded", Duration::from_secs(600), || {
        status(&client, &server, &finished[rollouts - 1]) == "succeeded"
    });
    let finished_rss = server.rss_kib().unwrap_or_default();
    let started = Instant::now();
    for i in 0..rollouts {
        deploy(
            &client,
            &server,
            &format!("slow-{i}"),
            "sandbox",
            "progressing",
        );
    }
    let rollouts_u64 = u64::try_from(rollouts).unwrap();
    wait_until("rolling out", Duration::from_secs(600), || {
        count(&client, &server, "rolling_out") == rollouts_u64
    });
    println!(
        "  {rollouts} slow rollouts posted and rolling out in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut latencies = Vec::new();
    for i in 0..20 {
        let service = format!("idle-{i}");
        let posted = Instant::now();
        let path = deploy(&client, &server, &service, "sandbox", "done");
        while status(&client, &server, &path) != "succeeded" {
            assert!(
                posted.elapsed() < Duration::from_secs(120),
                "{service} never succeeded"
            );
            sleep(Duration::from_millis(5));
        }
        latencies.push(posted.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  idle lane with {rollouts} rollouts in progress: p50 {:.0} ms, max {:.0} ms (20 deployments)",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
    );
    println!(
        "  resident memory: {} MiB idle, {} MiB after {rollouts} finished deployments, {} MiB \
         with {rollouts} more rollouts watched",
        idle_rss / 1024,
        finished_rss / 1024,
        server.rss_kib().unwrap_or_default() / 1024
    );
}

fn main() {
    let rollouts: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1000);
    let mut backends = vec![("SQLite", TestDatabase::sqlite as fn() -> TestDatabase)];
    if std::env::var_os("KUBERNAUT_TEST_DATABASE_URL").is_some() {
        backends.push(("PostgreSQL", TestDatabase::postgres));
    }
    for (name, open) in backends {
        println!("== {name}");
        requests_per_deployment(&open());
        idle_lane_behind_slow_rollouts(&open(), rollouts);
    }
}
