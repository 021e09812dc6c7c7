//! Losing the database connections under load (every backend terminated, as a PostgreSQL
//! restart or a failover does): requests answer 503 with `Retry-After`, never 500; no
//! acknowledged release is lost; `/readyz` recovers by itself. PostgreSQL only.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{Server, admin_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n";

/// Terminates every connection to the database of `url`, as an administrator would.
fn terminate_connections(url: &str) -> usize {
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    let admin = std::env::var("KUBERNAUT_TEST_DATABASE_URL").unwrap();
    let output = Command::new("psql")
        .args([
            &admin,
            "-Atc",
            &format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        ])
        .output()
        .expect("run psql");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
fn terminated_connections_are_503s_and_nothing_acknowledged_is_lost() {
    let db = TestDatabase::postgres();
    let server = Arc::new(Server::start(db.url()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (server, stop) = (server.clone(), stop.clone());
            thread::spawn(move || {
                let client = admin_client();
                let mut answers = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let version = format!("{writer}.{n}");
                    let response = client
                        .post(server.url("/api/releases"))
                        .json(&json!({"service": "load", "version": version, "template": TEMPLATE}))
                        .send()
                        .unwrap();
                    let status = response.status();
                    let retry_after = response.headers().contains_key("retry-after");
                    let body: Value = response.json().unwrap_or(Value::Null);
                    answers.push((version, status, retry_after, body));
                }
                answers
            })
        })
        .collect();
    let mut terminated = 0;
    for _ in 0..4 {
        thread::sleep(Duration::from_millis(400));
        terminated += terminate_connections(db.url());
    }
    thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<_> = writers
        .into_iter()
        .flat_map(|writer| writer.join().unwrap())
        .collect();
    assert!(terminated > 0, "the test terminated no connection");

    let count = |status: StatusCode| answers.iter().filter(|a| a.1 == status).count();
    let (created, unavailable) = (
        count(StatusCode::CREATED),
        count(StatusCode::SERVICE_UNAVAILABLE),
    );
    eprintln!(
        "{} requests: {created} created, {unavailable} unavailable, {terminated} connections terminated",
        answers.len()
    );
    for (version, status, retry_after, body) in &answers {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::SERVICE_UNAVAILABLE,
            "release {version}: {status} {body}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after, "a 503 without Retry-After: {body}");
            assert!(body["message"].is_string(), "{body}");
        }
    }
    assert!(created > 0);

    // /readyz recovers without a restart, and every acknowledged release is there.
    let client = admin_client();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.get(server.url("/readyz")).send().unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "/readyz did not recover");
        thread::sleep(Duration::from_millis(100));
    }
    let mut stored = Vec::new();
    loop {
        let page: Value = client
            .get(server.url(&format!(
                "/api/releases?service=load&limit=1000&offset={}",
                stored.len()
            )))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        stored.extend(
            items
                .iter()
                .map(|r| r["version"].as_str().unwrap().to_owned()),
        );
    }
    for (version, status, _, _) in &answers {
        if *status == StatusCode::CREATED {
            assert!(stored.contains(version), "release {version} was lost");
        }
    }
}
