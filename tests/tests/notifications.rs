//! Webhook notifications through the real `kubernaut-server` binary and its sandbox context, to
//! a receiver on loopback: signed payloads and their filters, retries with a stable delivery
//! id, dead and hanging receivers, a server killed before it delivered, and two replicas on one
//! PostgreSQL database.

use std::collections::{BTreeMap, BTreeSet};
use std::thread::sleep;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::receiver::{Answer, Received, Receiver};
use kubernaut_tests::{Server, admin_client, client_with_token, run_to_exit_with};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use sha2::Sha256;

const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  annotations:
    {{#rollout}}kubernaut.io/sandbox-rollout: \"{{rollout}}\"{{/rollout}}
    {{#message}}kubernaut.io/sandbox-message: \"{{message}}\"{{/message}}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

/// Settings every test server gets: quick polls and retries.
const QUICK: [(&str, &str); 4] = [
    ("KUBERNAUT__WORKER__POLL_INTERVAL_MS", "100"),
    ("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "100"),
    ("KUBERNAUT__NOTIFICATIONS__POLL_INTERVAL_MS", "100"),
    ("KUBERNAUT__NOTIFICATIONS__RETRY_BASE_MS", "100"),
];

/// A sandbox server notifying `webhooks`, with `more` settings.
fn start(db: &TestDatabase, webhooks: &Value, more: &[(&str, &str)]) -> Server {
    let webhooks = webhooks.to_string();
    let mut env = QUICK.to_vec();
    env.push(("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON", &webhooks));
    env.extend_from_slice(more);
    Server::start_with(db.url(), &["--sandbox"], &env)
}

fn post(client: &Client, server: &Server, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = client.post(server.url(path)).json(body).send().unwrap();
    (response.status(), response.json().unwrap())
}

fn get(client: &Client, server: &Server, path: &str) -> (StatusCode, Value) {
    let response = client.get(server.url(path)).send().unwrap();
    (response.status(), response.json().unwrap())
}

/// Releases `service` `version` with `attributes` besides the image.
fn release(server: &Server, service: &str, version: &str, attributes: Value) {
    let mut all = json!({"image": format!("{service}:{version}")});
    all.as_object_mut()
        .unwrap()
        .extend(attributes.as_object().unwrap().clone());
    let (status, body) = post(
        &admin_client(),
        server,
        "/api/releases",
        &json!({"service": service, "version": version, "template": TEMPLATE, "attributes": all}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Deploys `service` `version` to the sandbox with `query`.
fn deploy(server: &Server, service: &str, version: &str, query: &str) -> Value {
    let (status, body) = post(
        &admin_client(),
        server,
        &format!("/api/deployments{query}"),
        &json!({"service": service, "version": version, "context": "sandbox"}),
    );
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Reads deployment `id` until `done` holds (at most 30 s).
fn wait_for(server: &Server, id: &Value, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/deployments/{}", id.as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = get(&admin_client(), server, &path);
        if done(&body) || Instant::now() > deadline {
            return body;
        }
        sleep(Duration::from_millis(50));
    }
}

/// The deliveries of deployment `id`.
fn deliveries(server: &Server, id: &Value) -> Value {
    let path = format!("/api/deployments/{}/notifications", id.as_str().unwrap());
    let (status, body) = get(&admin_client(), server, &path);
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={:x}", mac.finalize().into_bytes())
}

/// The requests to `path`.
fn to(received: &[Received], path: &str) -> Vec<Received> {
    received
        .iter()
        .filter(|r| r.path == path)
        .cloned()
        .collect()
}

fn signed_events_reach_the_webhooks_that_want_them(db: &TestDatabase) {
    let receiver = Receiver::start();
    let webhooks = json!([
        {"name": "all", "url": receiver.url("/all"), "secret": "s3cret"},
        {"name": "failures", "url": receiver.url("/failures"), "secret": "another",
         "events": ["deployment.failed"]},
        {"name": "prod", "url": receiver.url("/prod"), "secret": "x", "contexts": ["prod-*"]},
        {"name": "chat", "url": receiver.url("/chat/T01/secret-path"), "format": "slack",
         "headers": {"X-Team": "platform"}},
    ]);
    let server = start(db, &webhooks, &[]);
    release(&server, "hello", "1", json!({}));
    release(
        &server,
        "hello",
        "2",
        json!({"rollout": "failed", "message": "image <hello:2> & friends cannot be pulled"}),
    );
    release(&server, "hello", "3", json!({"rollout": "progressing"}));

    let succeeded = deploy(&server, "hello", "1", "?wait=30");
    assert_eq!(succeeded["status"], "succeeded", "{succeeded}");
    let failed = deploy(&server, "hello", "2", "?wait=30");
    assert_eq!(failed["status"], "failed", "{failed}");
    let stuck = deploy(&server, "hello", "3", "");
    wait_for(&server, &stuck["id"], |d| d["status"] == "rolling_out");
    let cancel = format!("/api/deployments/{}/cancel", stuck["id"].as_str().unwrap());
    let (status, _) = post(&admin_client(), &server, &cancel, &json!({}));
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_for(&server, &stuck["id"], |d| d["status"] == "canceled");

    // Three starts and three ends for `all` and `chat`, the failure for `failures`, nothing
    // for `prod` (its contexts do not match the sandbox).
    receiver.wait_for(Duration::from_secs(30), |r| r.len() >= 13);
    sleep(Duration::from_millis(300));
    let received = receiver.received();
    assert_eq!(received.len(), 13, "{received:#?}");
    assert!(to(&received, "/prod").is_empty());

    let all = to(&received, "/all");
    let events: BTreeMap<String, Value> = all
        .iter()
        .map(|r| {
            let body = r.json();
            assert_eq!(r.header("x-kubernaut-event"), body["event"]);
            assert_eq!(r.header("content-type"), "application/json");
            assert_eq!(
                r.header("x-kubernaut-signature-256"),
                signature("s3cret", &r.body)
            );
            assert_ne!(
                r.header("x-kubernaut-signature-256"),
                signature("another", &r.body)
            );
            (
                format!(
                    "{} {}",
                    body["event"].as_str().unwrap(),
                    body["deployment"]["release"]["version"].as_str().unwrap()
                ),
                body,
            )
        })
        .collect();
    let names: Vec<&str> = events.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "deployment.canceled 3",
            "deployment.failed 2",
            "deployment.started 1",
            "deployment.started 2",
            "deployment.started 3",
            "deployment.succeeded 1"
        ]
    );
    let ids: BTreeSet<&str> = all
        .iter()
        .map(|r| r.header("x-kubernaut-delivery"))
        .collect();
    assert_eq!(ids.len(), 6, "a delivery id per event and webhook");

    let failure = &events["deployment.failed 2"];
    assert_eq!(failure["deployment"]["status"], "failed");
    assert_eq!(failure["deployment"]["id"], failed["id"]);
    assert!(failure["deployment"].get("manifest").is_none(), "{failure}");
    let error = failure["deployment"]["error"].as_str().unwrap();
    assert!(
        error.contains("image <hello:2> & friends cannot be pulled"),
        "{error}"
    );
    let tail = failure["logTail"].as_array().unwrap();
    assert!(!tail.is_empty() && tail.len() <= 20, "{failure}");
    let last = failure["logTail"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last,
        &failed["log"].as_array().unwrap().last().unwrap().clone()
    );
    let started = &events["deployment.started 1"];
    assert_eq!(
        started["deployment"]["status"], "applying",
        "as it was when it started"
    );
    assert_eq!(
        events["deployment.succeeded 1"]["deployment"]["status"],
        "succeeded"
    );
    assert_eq!(
        events["deployment.canceled 3"]["deployment"]["status"],
        "canceled"
    );

    let only_failures = to(&received, "/failures");
    assert_eq!(only_failures.len(), 1);
    assert_eq!(only_failures[0].json()["event"], "deployment.failed");
    assert_eq!(
        only_failures[0].header("x-kubernaut-signature-256"),
        signature("another", &only_failures[0].body)
    );

    let chat = to(&received, "/chat/T01/secret-path");
    assert_eq!(chat.len(), 6);
    assert!(chat.iter().all(|r| r.header("x-team") == "platform"));
    assert!(
        chat.iter()
            .all(|r| !r.headers.contains_key("x-kubernaut-signature-256"))
    );
    let texts: Vec<String> = chat
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_owned())
        .collect();
    let failed_id = failed["id"].as_str().unwrap();
    assert!(
        texts.contains(&format!(
            "kubernaut: Deployment of hello 2 to sandbox (namespace default) failed: \
             {} (deployment {failed_id})",
            error
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        )),
        "{texts:#?}"
    );

    // What the API shows of them.
    let shown = deliveries(&server, &failed["id"]);
    let rows: Vec<String> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {} {} {}",
                d["webhook"], d["event"], d["status"], d["attempts"], d["lastStatus"]
            )
            .replace('"', "")
        })
        .collect();
    assert_eq!(
        rows.len(),
        5,
        "started and failed for all and chat, failed for failures: {shown}"
    );
    for row in [
        "all deployment.started delivered 1 200",
        "all deployment.failed delivered 1 200",
        "failures deployment.failed delivered 1 200",
        "chat deployment.failed delivered 1 200",
    ] {
        assert!(rows.contains(&row.to_owned()), "{row}: {rows:#?}");
    }
    let (_, listed) = get(&admin_client(), &server, "/api/webhooks");
    assert_eq!(listed["count"], 4);
    assert_eq!(
        listed["items"][3],
        json!({"name": "chat", "url": receiver.url(""),
               "events": ["deployment.started", "deployment.succeeded", "deployment.failed",
                          "deployment.canceled"],
               "contexts": ["*"], "format": "slack", "headers": ["x-team"]})
    );
    assert!(!listed.to_string().contains("s3cret"), "{listed}");

    // Refusals: only a global admin lists webhooks; deliveries follow the deployment's scope.
    let (_, viewer) = post(
        &admin_client(),
        &server,
        "/api/tokens",
        &json!({"name": "reader", "grants": [{"role": "viewer", "namespace": "other"}]}),
    );
    let reader = client_with_token(viewer["token"].as_str().unwrap());
    let (status, body) = get(&reader, &server, "/api/webhooks");
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let path = format!("/api/deployments/{failed_id}/notifications");
    let (status, body) = get(&reader, &server, &path);
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = get(&Client::new(), &server, &path);
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let metrics = Client::new()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("kubernaut_notifications_total{result=\"delivered\"} 13"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kubernaut_notifications_pending 0"),
        "{metrics}"
    );
}

fn a_failing_receiver_is_retried_with_the_same_delivery_id(db: &TestDatabase) {
    let receiver = Receiver::start();
    receiver.script(&[Answer::Status(500), Answer::Status(500)]);
    let webhooks = json!([{"name": "ops", "url": receiver.url("/ops"), "secret": "s",
                           "events": ["deployment.succeeded"]}]);
    let server = start(db, &webhooks, &[]);
    release(&server, "hello", "1", json!({}));
    let deployed = deploy(&server, "hello", "1", "?wait=30");

    let received = receiver.wait_for(Duration::from_secs(30), |r| r.len() >= 3);
    let answers: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [500, 500, 200]);
    let ids: BTreeSet<&str> = received
        .iter()
        .map(|r| r.header("x-kubernaut-delivery"))
        .collect();
    assert_eq!(ids.len(), 1, "the same delivery id on every attempt");
    assert!(received.windows(2).all(|w| w[0].body == w[1].body));

    let shown = deliveries(&server, &deployed["id"]);
    let shown = wait_until_ended(&server, &deployed["id"], shown);
    let delivery = &shown["items"][0];
    assert_eq!(delivery["status"], "delivered", "{shown}");
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["id"].as_str(), ids.first().copied());
    let log: Vec<(Value, Value)> = delivery["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["status"].clone(), a["error"].clone()))
        .collect();
    let refused = json!("the receiver answered 500 Internal Server Error: receiver says so");
    assert_eq!(
        log,
        [
            (json!(500), refused.clone()),
            (json!(500), refused),
            (json!(200), Value::Null)
        ]
    );
}

/// Reads the deployment's deliveries until none is pending (at most 30 s).
fn wait_until_ended(server: &Server, id: &Value, mut shown: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    while shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["status"] == "pending")
        && Instant::now() < deadline
    {
        sleep(Duration::from_millis(50));
        shown = deliveries(server, id);
    }
    shown
}

fn dead_and_hanging_receivers_fail_their_deliveries_and_slow_nothing(db: &TestDatabase) {
    let alive = Receiver::start();
    let hanging = Receiver::start();
    hanging.otherwise(Answer::Hang);
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", listener.local_addr().unwrap())
    };
    let events = ["deployment.succeeded"];
    let webhooks = json!([
        {"name": "hanging", "url": hanging.url("/hang"), "secret": "s", "events": events},
        {"name": "gone", "url": gone, "secret": "s", "events": events},
        {"name": "alive", "url": alive.url("/alive"), "secret": "s", "events": events},
    ]);
    let settings = [
        ("KUBERNAUT__NOTIFICATIONS__TIMEOUT_SECS", "2"),
        ("KUBERNAUT__NOTIFICATIONS__MAX_ATTEMPTS", "2"),
    ];
    let server = start(db, &webhooks, &settings);
    release(&server, "hello", "1", json!({}));

    let asked = Instant::now();
    let deployed = deploy(&server, "hello", "1", "?wait=30");
    let deployed_in = asked.elapsed();
    assert_eq!(deployed["status"], "succeeded", "{deployed}");
    let received = alive.wait_for(Duration::from_secs(10), |r| !r.is_empty());
    let notified_in = received[0].at - asked;
    eprintln!(
        "deployed in {deployed_in:?}, the live webhook notified {notified_in:?} after the \
         request, beside a receiver that hangs for 2 s and one that refuses connections"
    );
    // Neither the deployment nor the live webhook waited for the hanging receiver's timeout.
    assert!(deployed_in < Duration::from_secs(2), "{deployed_in:?}");
    assert!(notified_in < Duration::from_secs(2), "{notified_in:?}");

    let shown = wait_until_ended(
        &server,
        &deployed["id"],
        deliveries(&server, &deployed["id"]),
    );
    let outcome: BTreeMap<String, (Value, Value, Value)> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["webhook"].as_str().unwrap().to_owned(),
                (
                    d["status"].clone(),
                    d["attempts"].clone(),
                    d["lastError"].clone(),
                ),
            )
        })
        .collect();
    assert_eq!(
        outcome["alive"],
        (json!("delivered"), json!(1), Value::Null)
    );
    assert_eq!(
        outcome["hanging"],
        (
            json!("failed"),
            json!(2),
            json!("the receiver did not answer within 2 s")
        )
    );
    let (status, attempts, error) = &outcome["gone"];
    assert_eq!((status, attempts), (&json!("failed"), &json!(2)));
    assert!(
        error
            .as_str()
            .unwrap()
            .starts_with("cannot connect to the receiver: "),
        "{error}"
    );
    assert_eq!(hanging.received().len(), 2);
}

fn a_delivery_pending_when_the_server_is_killed_is_sent_after_its_restart(db: &TestDatabase) {
    let receiver = Receiver::start();
    receiver.otherwise(Answer::Status(503));
    let webhooks = json!([{"name": "ops", "url": receiver.url("/ops"), "secret": "s",
                           "events": ["deployment.succeeded"]}]);
    // Retries far apart: the delivery is still pending when the server dies.
    let slow_retries = [("KUBERNAUT__NOTIFICATIONS__RETRY_BASE_MS", "2000")];
    let server = start(db, &webhooks, &slow_retries);
    release(&server, "hello", "1", json!({}));
    let deployed = deploy(&server, "hello", "1", "?wait=30");
    let first = receiver.wait_for(Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(first[0].answered, 503);
    // Killed once the failed attempt is recorded: the delivery is pending, held by no sender.
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliveries(&server, &deployed["id"])["items"][0]["attempts"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the first attempt was never recorded"
        );
        sleep(Duration::from_millis(20));
    }
    server.kill();

    receiver.otherwise(Answer::Status(200));
    let server = start(db, &webhooks, &[]);
    let received = receiver.wait_for(Duration::from_secs(30), |r| {
        r.iter().any(|request| request.answered == 200)
    });
    let taken = received.iter().find(|r| r.answered == 200).unwrap();
    assert_eq!(
        taken.header("x-kubernaut-delivery"),
        first[0].header("x-kubernaut-delivery")
    );
    assert_eq!(taken.body, first[0].body);
    let shown = wait_until_ended(
        &server,
        &deployed["id"],
        deliveries(&server, &deployed["id"]),
    );
    assert_eq!(shown["items"][0]["status"], "delivered", "{shown}");
}

kubernaut_tests::on_both_backends!(
    signed_events_reach_the_webhooks_that_want_them,
    a_failing_receiver_is_retried_with_the_same_delivery_id,
    dead_and_hanging_receivers_fail_their_deliveries_and_slow_nothing,
    a_delivery_pending_when_the_server_is_killed_is_sent_after_its_restart,
);

#[test]
fn a_bad_webhook_stops_start_up_with_one_clear_line() {
    let db = TestDatabase::sqlite();
    let cases = [
        (
            r#"[{"name": "chat", "url": "ftp://chat.example.com/T0/secret-path", "secret": "s"}]"#,
            "kubernaut-server: notifications.webhooks[0] (\"chat\"): url must be an http or \
             https URL",
        ),
        (
            r#"[{"name": "chat", "url": "https://chat.example.com/hook"}]"#,
            "kubernaut-server: notifications.webhooks[0] (\"chat\"): secret is required: \
             receivers verify X-Kubernaut-Signature-256 with it",
        ),
        (
            r#"[{"name": "chat", "url": "https://x", "secret": "s", "events": ["deploy"]}]"#,
            "kubernaut-server: notifications.webhooks[0] (\"chat\"): event must be one of \
             deployment.started, deployment.succeeded, deployment.failed, deployment.canceled, \
             got \"deploy\"",
        ),
    ];
    for (webhooks, expected) in cases {
        let run = run_to_exit_with(
            &["--database-url", db.url()],
            &[("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON", webhooks)],
        );
        assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
        assert_eq!(run.stderr.trim(), expected);
    }
    let run = run_to_exit_with(
        &["--database-url", db.url()],
        &[(
            "KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON",
            r#"[{"name": "x", "secret": "hush""#,
        )],
    );
    assert_eq!(run.status.code(), Some(1));
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(
            "kubernaut-server: notifications.webhooks_json is not a JSON array of webhooks: "
        ),
        "{line}"
    );
    assert!(!line.contains("hush"), "{line}");
}

/// Two replicas on one PostgreSQL database: every event is delivered once per webhook while
/// the receiver answers 2xx, and none is lost when a replica dies.
#[test]
#[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
fn two_replicas_deliver_each_event_once_and_lose_none_when_one_dies() {
    let db = TestDatabase::postgres();
    let receiver = Receiver::start();
    let webhooks = json!([{"name": "ops", "url": receiver.url("/ops"), "secret": "s"}]);
    // A dead replica's deployments and deliveries are taken over once their leases lapse.
    let settings = [
        ("KUBERNAUT__WORKER__LEASE_SECS", "1"),
        ("KUBERNAUT__NOTIFICATIONS__TIMEOUT_SECS", "1"),
    ];
    let first = start(&db, &webhooks, &settings);
    let second = start(&db, &webhooks, &settings);
    let services: Vec<String> = (0..20).map(|i| format!("svc-{i}")).collect();
    for service in &services {
        release(&first, service, "1", json!({}));
    }

    // Both alive: 10 deployments, each started and succeeded, each event delivered once.
    let mut ids = Vec::new();
    for (i, service) in services[..10].iter().enumerate() {
        let server = if i % 2 == 0 { &first } else { &second };
        ids.push(deploy(server, service, "1", "")["id"].clone());
    }
    receiver.wait_for(Duration::from_secs(30), |r| r.len() >= 20);
    sleep(Duration::from_secs(1));
    let received = receiver.received();
    assert_eq!(received.len(), 20, "{received:#?}");
    let events = |received: &[Received]| -> BTreeSet<(String, String)> {
        received
            .iter()
            .map(|r| {
                let body = r.json();
                (
                    body["deployment"]["id"].as_str().unwrap().to_owned(),
                    body["event"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(events(&received).len(), 20, "each event once");

    // One replica dies while 10 more deployments run: every event still arrives.
    for service in &services[10..] {
        ids.push(deploy(&first, service, "1", "")["id"].clone());
    }
    second.kill();
    let received = receiver.wait_for(Duration::from_secs(60), |r| events(r).len() >= 40);
    let seen = events(&received);
    assert_eq!(seen.len(), 40, "{seen:#?}");
    for id in &ids {
        let id = id.as_str().unwrap().to_owned();
        for event in ["deployment.started", "deployment.succeeded"] {
            assert!(
                seen.contains(&(id.clone(), event.to_owned())),
                "{id} {event}"
            );
        }
    }
    // At least once: a repeat carries the delivery id of the first.
    let mut by_event: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in &received {
        let body = r.json();
        by_event
            .entry((
                body["deployment"]["id"].as_str().unwrap().to_owned(),
                body["event"].as_str().unwrap().to_owned(),
            ))
            .or_default()
            .insert(r.header("x-kubernaut-delivery").to_owned());
    }
    assert!(by_event.values().all(|ids| ids.len() == 1), "{by_event:#?}");
}
