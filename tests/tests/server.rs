//! The real `kubernaut-server` binary, driven over HTTP.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{Server, admin_client, run_to_exit};
use reqwest::StatusCode;
use reqwest::blocking::multipart;
use serde_json::{Value, json};

const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  labels:
    version: \"{{version}}\"
spec:
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

fn release(version: &str) -> Value {
    json!({
        "service": "hello-world",
        "version": version,
        "template": TEMPLATE,
        "attributes": {"image": format!("registry.example.com/hello-world:{version}")},
    })
}

fn releases_survive_a_restart(db: &TestDatabase) {
    let client = admin_client();
    let server = Server::start(db.url());
    let response = client
        .post(server.url("/api/releases"))
        .json(&release("42"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().unwrap();

    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM should stop the server cleanly, got {status}"
    );

    let server = Server::start(db.url());
    let fetched: Value = client
        .get(server.url(&location))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(fetched, created);
    let ready = client.get(server.url("/readyz")).send().unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

fn concurrent_identical_posts_make_one_release(db: &TestDatabase) {
    let server = Arc::new(Server::start(db.url()));
    let callers = 16;
    let barrier = Arc::new(Barrier::new(callers));
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            let (server, barrier) = (server.clone(), barrier.clone());
            thread::spawn(move || {
                let client = admin_client();
                barrier.wait();
                let response = client
                    .post(server.url("/api/releases"))
                    .json(&release("7"))
                    .send()
                    .unwrap();
                let status = response.status();
                let body: Value = response.json().unwrap();
                (status, body["id"].as_str().unwrap_or_default().to_owned())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let repeated = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((created, repeated), (1, callers - 1), "{results:?}");
    let ids: HashSet<_> = results.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 1);

    let list: Value = admin_client()
        .get(server.url("/api/releases"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list["count"], 1);
}

fn curl_form_posts_are_releases(db: &TestDatabase) {
    let server = Server::start(db.url());
    let form = multipart::Form::new()
        .text("service", "jobs-api")
        .text("namespace", "jobs")
        .text("version", "3f2a9c1")
        .text("image", "registry.example.com/jobs-api:3f2a9c1")
        .part(
            "template",
            multipart::Part::text(TEMPLATE).file_name("kubernetes.yaml"),
        );
    let response = admin_client()
        .post(server.url("/api/releases"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().unwrap();
    assert_eq!(body["service"]["namespace"], "jobs");
    assert_eq!(
        body["attributes"]["image"],
        "registry.example.com/jobs-api:3f2a9c1"
    );
}

kubernaut_tests::on_both_backends!(
    releases_survive_a_restart,
    concurrent_identical_posts_make_one_release,
    curl_form_posts_are_releases,
);

#[test]
fn unknown_routes_are_json_404s_under_api_and_pages_elsewhere() {
    let db = TestDatabase::sqlite();
    let server = Server::start(db.url());
    let response = admin_client().get(server.url("/api/nope")).send().unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().unwrap();
    assert_eq!(body["message"], "no such route: GET /api/nope");
    let response = admin_client().get(server.url("/nope")).send().unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().unwrap();
    assert!(page.contains("there is no page at /nope"), "{page}");
}

#[test]
fn a_bad_database_url_stops_start_up_with_one_clear_line() {
    let (status, stderr) = run_to_exit(&["--database-url", "mysql://root@db/k"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr.trim(),
        "kubernaut-server: invalid database URL mysql://root@db/k: the scheme must be \
         postgres://, postgresql:// or sqlite://"
    );
}

#[test]
fn the_help_says_what_it_is_and_how_to_configure_it() {
    let run = kubernaut_tests::run_to_exit_with(&["--help"], &[]);
    assert!(run.status.success());
    assert!(
        run.stdout.starts_with(
            "Kubernaut's deployment service: stores releases, deploys them to Kubernetes \
             clusters, and serves the REST API\n"
        ),
        "{}",
        run.stdout
    );
    for named in [
        "KUBERNAUT__DATABASE__URL",
        "RUST_LOG",
        "config/default.toml",
    ] {
        assert!(run.stdout.contains(named), "{named}: {}", run.stdout);
    }
}

#[test]
fn a_listen_address_without_a_port_says_how_to_write_it() {
    let (status, stderr) = run_to_exit(&["--listen", "localhost"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr.trim(),
        "kubernaut-server: --listen (server.listen) must be HOST:PORT, e.g. 127.0.0.1:8080 (this \
         machine only) or 0.0.0.0:8080 (every interface), got \"localhost\""
    );
}

#[test]
fn an_unreachable_database_names_the_real_cause() {
    let (status, stderr) = run_to_exit(&["--database-url", "postgres://k:secret@127.0.0.1:1/k"]);
    assert_eq!(status.code(), Some(1));
    let line = stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(
            "kubernaut-server: cannot connect to database postgres://k:***@127.0.0.1:1/k: "
        ),
        "{line}"
    );
    assert!(
        line.contains("Connection refused; Is the server running"),
        "{line}"
    );
    assert!(
        !line.contains("Invalid connection url") && !line.contains("secret"),
        "{line}"
    );
}
