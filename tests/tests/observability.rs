//! What operators observe of the real binary: Prometheus metrics under route patterns,
//! `X-Request-Id` on every response, and log lines (text or JSON) that name the request.

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
spec:
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

/// The value of the sample `name` (with its labels exactly as written) in `metrics`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
    })
}

fn metrics(server: &Server) -> String {
    let response = Client::new().get(server.url("/metrics")).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no token needed");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    response.text().unwrap()
}

fn metrics_count_requests_releases_and_deployments(db: &TestDatabase) {
    let server = Server::start_with(db.url(), &["--sandbox"], &[]);
    let client = admin_client();
    let release = client
        .post(server.url("/api/releases"))
        .json(
            &json!({"service": "hello", "version": "1", "template": TEMPLATE,
                      "attributes": {"image": "hello:1"}}),
        )
        .send()
        .unwrap();
    assert_eq!(release.status(), StatusCode::CREATED);
    let release: Value = release.json().unwrap();
    let again = client
        .post(server.url("/api/releases"))
        .json(
            &json!({"service": "hello", "version": "1", "template": TEMPLATE,
                      "attributes": {"image": "hello:1"}}),
        )
        .send()
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let deployed = client
        .post(server.url("/api/deployments?wait=30"))
        .json(&json!({"release": release["id"], "context": "sandbox"}))
        .send()
        .unwrap();
    let deployed: Value = deployed.json().unwrap();
    assert_eq!(deployed["status"], "succeeded", "{deployed}");
    let missing = client
        .get(server.url("/api/releases/0192f1c2-0000-7000-8000-000000000000"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let refused = Client::new()
        .get(server.url("/api/releases"))
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let text = metrics(&server);
    let expect = |name: &str, value: f64| {
        assert_eq!(sample(&text, name), Some(value), "{name} in\n{text}");
    };
    expect(
        r#"kubernaut_http_requests_total{method="POST",route="/api/releases",status="201"}"#,
        1.0,
    );
    expect(
        r#"kubernaut_http_requests_total{method="POST",route="/api/releases",status="200"}"#,
        1.0,
    );
    expect(
        r#"kubernaut_http_requests_total{method="GET",route="/api/releases/{id}",status="404"}"#,
        1.0,
    );
    expect(
        r#"kubernaut_http_requests_total{method="GET",route="/api/releases",status="401"}"#,
        1.0,
    );
    expect(
        r#"kubernaut_http_request_duration_seconds_count{method="POST",route="/api/releases"}"#,
        2.0,
    );
    expect("kubernaut_releases_created_total", 1.0);
    expect(
        r#"kubernaut_deployments_total{context="sandbox",status="succeeded"}"#,
        1.0,
    );
    expect(
        r#"kubernaut_deployment_duration_seconds_count{context="sandbox"}"#,
        1.0,
    );
    expect("kubernaut_deployments_queued", 0.0);
    expect("kubernaut_deployments_running", 0.0);
    expect("kubernaut_auth_failures_total", 1.0);
    expect(
        r#"kubernaut_cluster_requests_total{context="sandbox",verb="apply",code="ok"}"#,
        1.0,
    );
    assert!(sample(&text, r#"kubernaut_db_pool_connections{state="idle"}"#).is_some());
    assert!(!text.contains("0192f1c2"), "raw paths never become labels");
}

fn every_response_names_its_request_and_the_log_line_too(db: &TestDatabase) {
    let server = Server::start_with(db.url(), &["--log-format", "json"], &[]);
    let client = admin_client();
    let named = client
        .get(server.url("/api/releases"))
        .header("X-Request-Id", "ci-build-42.step-3")
        .send()
        .unwrap();
    assert_eq!(named.headers()["x-request-id"], "ci-build-42.step-3");
    let insane = client
        .get(server.url("/api/nope"))
        .header("X-Request-Id", "spaces are not allowed")
        .send()
        .unwrap();
    assert_eq!(insane.status(), StatusCode::NOT_FOUND);
    let generated = insane.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(generated, "spaces are not allowed");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let health = Client::new().get(server.url("/healthz")).send().unwrap();
    assert!(health.headers().contains_key("x-request-id"));

    // The audit event of a change names the request too.
    let created = client
        .post(server.url("/api/releases"))
        .header("X-Request-Id", "release-request-1")
        .json(
            &json!({"service": "hello", "version": "1", "template": TEMPLATE,
                      "attributes": {"image": "hello:1"}}),
        )
        .send()
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let audit: Value = client
        .get(server.url("/api/audit?action=release.create"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(audit["items"][0]["requestId"], "release-request-1");

    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let found = server.stderr().lines().into_iter().find_map(|line| {
            let value: Value = serde_json::from_str(&line).ok()?;
            (value["request_id"] == "ci-build-42.step-3").then_some(value)
        });
        if let Some(line) = found {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no JSON log line names the request:\n{}",
            server.stderr().lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["status"], 200);
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .starts_with("GET /api/releases 200 ")
    );
    for line in server.stderr().lines() {
        if line.contains("listening on") || line.contains("first admin token") {
            continue;
        }
        assert!(
            serde_json::from_str::<Value>(&line).is_ok(),
            "not a JSON line: {line}"
        );
    }
}

kubernaut_tests::on_both_backends!(
    metrics_count_requests_releases_and_deployments,
    every_response_names_its_request_and_the_log_line_too,
);
