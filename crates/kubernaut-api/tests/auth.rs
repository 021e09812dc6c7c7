//! Authentication, authorization and audit through the real actix-web app, on SQLite and
//! PostgreSQL: every endpoint refuses anonymous and bad tokens (401), a token without the
//! grant is refused with a message naming it (403, audited), records outside its namespaces
//! are 404 and absent from lists (with the right count), and every change writes exactly one
//! audit event.

mod common;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use chrono::Utc;
use common::{ADMIN, app, message, send, send_anonymous, state_with, state_with_auth};
use kubernaut_api::AppState;
use kubernaut_app::AuthOptions;
use kubernaut_cluster::{ContextKind, Contexts, Sandbox};
use kubernaut_domain::{Grants, NewToken, SecretHash, TokenName};
use kubernaut_store::testing::TestDatabase;
use serde_json::{Value, json};

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n";

fn contexts() -> Arc<Contexts> {
    Arc::new(Contexts::from_clusters(
        ["prod-eu", "staging-eu"]
            .into_iter()
            .map(|name| {
                let cluster: Arc<dyn kubernaut_cluster::Cluster> = Arc::new(Sandbox::default());
                (name.to_owned(), ContextKind::Sandbox, cluster)
            })
            .collect(),
    ))
}

async fn state(db: &TestDatabase) -> AppState {
    state_with(db.open(), contexts()).await
}

/// State that allows `failures` failed authentications per minute and address.
async fn state_allowing(db: &TestDatabase, failures: u32) -> AppState {
    let auth = AuthOptions {
        max_failures_per_minute: failures,
    };
    state_with_auth(db.open(), contexts(), &auth).await
}

fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

fn release(service: &str, namespace: &str, version: &str) -> Value {
    json!({"service": service, "namespace": namespace, "version": version, "template": TEMPLATE})
}

/// Creates a token with `grants` as the admin; its secret.
async fn token<S, B>(app: &S, name: &str, grants: Value) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (status, _, body) = send(
        app,
        TestRequest::post()
            .uri("/api/tokens")
            .set_json(json!({"name": name, "grants": grants})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// Every endpoint under /api, as (method, path).
const ENDPOINTS: [(&str, &str); 15] = [
    ("GET", "/api/releases"),
    ("POST", "/api/releases"),
    ("GET", "/api/releases/0192f1c2-0000-7000-8000-000000000000"),
    (
        "DELETE",
        "/api/releases/0192f1c2-0000-7000-8000-000000000000",
    ),
    ("GET", "/api/deployments"),
    ("POST", "/api/deployments"),
    (
        "GET",
        "/api/deployments/0192f1c2-0000-7000-8000-000000000000",
    ),
    (
        "DELETE",
        "/api/deployments/0192f1c2-0000-7000-8000-000000000000",
    ),
    ("GET", "/api/services"),
    ("GET", "/api/services/0192f1c2-0000-7000-8000-000000000000"),
    ("GET", "/api/contexts"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("GET", "/api/whoami"),
    ("GET", "/api/audit"),
];

fn request(method: &str, path: &str) -> TestRequest {
    let request = match method {
        "GET" => TestRequest::get(),
        "POST" => TestRequest::post().set_json(json!({})),
        "DELETE" => TestRequest::delete(),
        other => panic!("no method {other}"),
    };
    request.uri(path)
}

async fn every_endpoint_needs_a_valid_token(db: TestDatabase) {
    let state = state_allowing(&db, 10_000).await;
    // A token that expired a minute ago, and one that is revoked.
    let store = state.app.store().clone();
    let expired = "knt_expired-0123456789abcdef0123456789abcdef";
    store
        .transaction(|tx| {
            tx.create_token(
                &NewToken {
                    name: TokenName::parse("old").unwrap(),
                    grants: Grants::global_admin(),
                    expires_on: Some(Utc::now() - chrono::Duration::minutes(1)),
                    created_by: "admin".into(),
                },
                &SecretHash::of(expired),
            )
        })
        .unwrap();
    let app = app(state).await;
    let revoked = token(&app, "gone", json!([{"role": "admin", "namespace": "*"}])).await;
    let (_, _, gone) = send(&app, TestRequest::get().uri("/api/tokens?name=gone")).await;
    let id = gone["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = send(
        &app,
        TestRequest::delete().uri(&format!("/api/tokens/{id}")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let paths = ENDPOINTS
        .iter()
        .copied()
        .chain([("GET", "/api/audit/verify")])
        .chain([("GET", &*format!("/api/tokens/{id}"))])
        .chain([("DELETE", &*format!("/api/tokens/{id}"))])
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect::<Vec<_>>();
    for (method, path) in &paths {
        for auth in [
            None,
            Some("Bearer".to_owned()),
            Some("Basic YWRtaW46YWRtaW4=".to_owned()),
            Some("Bearer knt_not-a-token".to_owned()),
            Some(format!("Bearer {expired}")),
            Some(format!("Bearer {revoked}")),
        ] {
            let mut req = request(method, path);
            if let Some(auth) = &auth {
                req = req.insert_header((header::AUTHORIZATION, auth.as_str()));
            }
            let (status, headers, body) = send_anonymous(&app, req).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {auth:?}: {body}"
            );
            assert_eq!(
                headers.get(header::WWW_AUTHENTICATE).unwrap(),
                r#"Bearer realm="kubernaut""#
            );
            let message = message(&body);
            let sent = auth.as_deref().and_then(|a| a.split(' ').nth(1));
            if let Some(sent) = sent {
                assert!(
                    !message.contains(sent),
                    "the message echoes {sent:?}: {message}"
                );
            }
        }
    }
    let (_, _, body) = send_anonymous(
        &app,
        TestRequest::get()
            .uri("/api/whoami")
            .insert_header(bearer(expired)),
    )
    .await;
    assert!(
        message(&body).starts_with("the token old expired on "),
        "{body}"
    );
    let (_, _, body) = send_anonymous(
        &app,
        TestRequest::get()
            .uri("/api/whoami")
            .insert_header(bearer(&revoked)),
    )
    .await;
    assert!(
        message(&body).starts_with("the token gone was revoked on "),
        "{body}"
    );
    let (_, _, body) = send_anonymous(&app, TestRequest::get().uri("/api/releases")).await;
    assert_eq!(
        message(&body),
        "this endpoint needs a token: send the header Authorization: Bearer <token>"
    );

    // Health needs no token.
    let (status, _, _) = send_anonymous(&app, TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send_anonymous(&app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn grants_decide_and_refusals_name_what_is_missing(db: TestDatabase) {
    let app = app(state(&db).await).await;
    let ci = token(
        &app,
        "ci-hello-world",
        json!([{"role": "deployer", "namespace": "default", "context": "staging-*"}]),
    )
    .await;
    let viewer = token(
        &app,
        "viewer",
        json!([{"role": "viewer", "namespace": "*"}]),
    )
    .await;
    let as_ci = |req: TestRequest| req.insert_header(bearer(&ci));
    let as_viewer = |req: TestRequest| req.insert_header(bearer(&viewer));

    // The releaser part of deployer: a release in its namespace, not in another.
    let (status, _, created) = send(
        &app,
        as_ci(
            TestRequest::post()
                .uri("/api/releases")
                .set_json(release("hello", "default", "1")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["createdBy"], "ci-hello-world");
    let (status, _, body) = send(
        &app,
        as_ci(
            TestRequest::post()
                .uri("/api/releases")
                .set_json(release("hello", "jobs", "1")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&body),
        r#"token "ci-hello-world" may not create releases in namespace "jobs""#
    );
    let (status, _, _) = send(
        &app,
        as_viewer(
            TestRequest::post()
                .uri("/api/releases")
                .set_json(release("hello", "default", "2")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deploy: staging-* yes, prod-eu no.
    let deploy = |context: &str| {
        TestRequest::post()
            .uri("/api/deployments")
            .set_json(json!({"service": "hello", "version": "1", "context": context}))
    };
    let (status, _, staged) = send(&app, as_ci(deploy("staging-eu"))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{staged}");
    assert_eq!(staged["createdBy"], "ci-hello-world");
    let (status, _, body) = send(&app, as_ci(deploy("prod-eu"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&body),
        r#"token "ci-hello-world" may not deploy to context "prod-eu" in namespace "default""#
    );
    let (status, _, _) = send(&app, as_viewer(deploy("staging-eu"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deleting needs admin: the deployer may not, the admin may.
    let release_id = created["id"].as_str().unwrap();
    let (status, _, body) = send(
        &app,
        as_ci(TestRequest::delete().uri(&format!("/api/releases/{release_id}"))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&body),
        r#"token "ci-hello-world" may not delete releases in namespace "default""#
    );
    let deployment_id = staged["id"].as_str().unwrap();
    let (status, _, body) = send(
        &app,
        as_ci(TestRequest::delete().uri(&format!("/api/deployments/{deployment_id}"))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&body),
        r#"token "ci-hello-world" may not delete deployments of context "staging-eu" in namespace "default""#
    );

    // Tokens and the audit log are for global admins only.
    for (method, path) in [
        ("GET", "/api/tokens"),
        ("POST", "/api/tokens"),
        ("GET", "/api/audit"),
        ("GET", "/api/audit/verify"),
    ] {
        let req = if method == "POST" {
            TestRequest::post()
                .uri(path)
                .set_json(json!({"name": "x", "grants": [{"role": "admin", "namespace": "*"}]}))
        } else {
            TestRequest::get().uri(path)
        };
        let (status, _, body) = send(&app, as_ci(req)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(
            message(&body).starts_with(r#"token "ci-hello-world" may not "#),
            "{body}"
        );
    }

    // whoami: its own grants.
    let (status, _, me) = send(&app, as_ci(TestRequest::get().uri("/api/whoami"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({
            "name": "ci-hello-world",
            "grants": [{"role": "deployer", "namespace": "default", "context": "staging-*"}],
            "expiresOn": me["expiresOn"],
        })
    );
    assert!(me["expiresOn"].is_string());

    // Every refusal is audited as access.denied, with who and where.
    let (_, _, denied) = send(
        &app,
        TestRequest::get().uri("/api/audit?action=access.denied&actor=ci-hello-world"),
    )
    .await;
    assert_eq!(denied["count"], 8, "{denied}");
    let prod = denied["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["context"] == "prod-eu")
        .expect("the refused deploy to prod-eu");
    assert_eq!(prod["namespace"], "default");
    assert_eq!(prod["resourceType"], "deployment");
    assert_eq!(
        prod["details"]["message"],
        r#"token "ci-hello-world" may not deploy to context "prod-eu" in namespace "default""#
    );
}

async fn reads_outside_the_grants_are_404_and_lists_leave_them_out(db: TestDatabase) {
    let app = app(state(&db).await).await;
    let mut ids = Vec::new();
    for (service, namespace) in [("a", "default"), ("b", "team-x"), ("c", "jobs")] {
        let (status, _, body) = send(
            &app,
            TestRequest::post()
                .uri("/api/releases")
                .set_json(release(service, namespace, "1")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(body["id"].as_str().unwrap().to_owned());
        let (status, _, _) = send(
            &app,
            TestRequest::post()
                .uri("/api/deployments")
                .set_json(json!({"release": body["id"], "context": "prod-eu"})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let team = token(
        &app,
        "team",
        json!([
            {"role": "viewer", "namespace": "default"},
            {"role": "admin", "namespace": "team-*", "context": "staging-*"},
        ]),
    )
    .await;
    let as_team = |uri: &str| TestRequest::get().uri(uri).insert_header(bearer(&team));

    let (_, _, releases) = send(&app, as_team("/api/releases")).await;
    assert_eq!(releases["count"], 2, "{releases}");
    let namespaces: Vec<&str> = releases["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["team-x", "default"]);
    let (_, _, filtered) = send(&app, as_team("/api/releases?namespace=jobs")).await;
    assert_eq!(filtered["count"], 0, "a filter cannot widen the view");
    let (_, _, services) = send(&app, as_team("/api/services")).await;
    assert_eq!(services["count"], 2);
    let (_, _, deployments) = send(&app, as_team("/api/deployments")).await;
    assert_eq!(deployments["count"], 2);
    let (_, _, page) = send(&app, as_team("/api/deployments?limit=1&offset=1")).await;
    assert_eq!(
        (
            page["count"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );

    // One record outside: 404 with the message of an unknown id, for reads and deletes alike.
    let jobs = &ids[2];
    let (status, _, body) = send(&app, as_team(&format!("/api/releases/{jobs}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), format!("release {jobs} does not exist"));
    let (status, _, _) = send(
        &app,
        TestRequest::delete()
            .uri(&format!("/api/releases/{jobs}"))
            .insert_header(bearer(&team)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(
        &app,
        TestRequest::post()
            .uri("/api/deployments")
            .insert_header(bearer(&team))
            .set_json(json!({"release": jobs, "context": "staging-eu"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "deploying what it cannot see"
    );
    let (_, _, all) = send(&app, TestRequest::get().uri("/api/services")).await;
    for service in all["items"].as_array().unwrap() {
        let uri = format!("/api/services/{}", service["id"].as_str().unwrap());
        let (status, _, _) = send(&app, as_team(&uri)).await;
        let expected = if service["namespace"] == "jobs" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected, "{service}");
    }

    // Inside: readable; deletable where it is admin.
    let (status, _, _) = send(&app, as_team(&format!("/api/releases/{}", ids[0]))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &app,
        TestRequest::delete()
            .uri(&format!("/api/releases/{}", ids[1]))
            .insert_header(bearer(&team)),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// The audit events of `action`, newest first.
async fn events<S, B>(app: &S, action: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (status, _, body) = send(
        app,
        TestRequest::get().uri(&format!("/api/audit?action={action}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

async fn every_change_writes_exactly_one_audit_event(db: TestDatabase) {
    let app = app(state(&db).await).await;
    let ci = token(&app, "ci", json!([{"role": "admin", "namespace": "*"}])).await;
    let as_ci = |req: TestRequest| req.insert_header(bearer(&ci));
    let creations = events(&app, "token.create").await;
    assert_eq!(creations.len(), 2, "the first admin and ci: {creations:?}");
    assert_eq!(creations[0]["actor"], "admin");
    assert_eq!(creations[0]["details"]["name"], "ci");
    assert!(
        !creations[0].to_string().contains(&ci),
        "no secret in the audit log"
    );

    let post_release = || {
        as_ci(
            TestRequest::post()
                .uri("/api/releases")
                .set_json(release("hello", "default", "1")),
        )
    };
    let (status, _, created) = send(&app, post_release()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = send(&app, post_release()).await;
    assert_eq!(status, StatusCode::OK, "an idempotent repeat");
    let release_id = created["id"].as_str().unwrap();
    let created_events = events(&app, "release.create").await;
    assert_eq!(created_events.len(), 1, "the repeat is not a change");
    let event = &created_events[0];
    assert_eq!(event["actor"], "ci");
    assert_eq!(event["resourceType"], "release");
    assert_eq!(event["resourceId"], release_id);
    assert_eq!(event["namespace"], "default");
    assert_eq!(event["details"]["service"], "hello");
    assert_eq!(event["details"]["version"], "1");
    assert!(event["requestId"].is_string());

    let (status, _, deployment) = send(
        &app,
        as_ci(
            TestRequest::post()
                .uri("/api/deployments")
                .set_json(json!({"release": release_id, "context": "prod-eu"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deployment_id = deployment["id"].as_str().unwrap();
    let deployed = events(&app, "deployment.create").await;
    assert_eq!(deployed.len(), 1);
    assert_eq!(deployed[0]["resourceId"], deployment_id);
    assert_eq!(deployed[0]["context"], "prod-eu");
    assert_eq!(deployed[0]["actor"], "ci");

    for _ in 0..2 {
        let (status, _, _) = send(
            &app,
            as_ci(TestRequest::delete().uri(&format!("/api/deployments/{deployment_id}"))),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = send(
            &app,
            as_ci(TestRequest::delete().uri(&format!("/api/releases/{release_id}"))),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let deleted = events(&app, "deployment.delete").await;
    assert_eq!(deleted.len(), 1, "the repeated delete changed nothing");
    assert_eq!(deleted[0]["resourceId"], deployment_id);
    assert_eq!(deleted[0]["actor"], "ci");
    let deleted = events(&app, "release.delete").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["resourceId"], release_id);

    let (_, _, tokens) = send(&app, TestRequest::get().uri("/api/tokens?name=ci")).await;
    let token_id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        tokens["items"][0].get("token").is_none(),
        "no secret after creation"
    );
    for _ in 0..2 {
        let (status, _, _) = send(
            &app,
            TestRequest::delete().uri(&format!("/api/tokens/{token_id}")),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let revoked = events(&app, "token.revoke").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["resourceId"], token_id.as_str());
    assert_eq!(revoked[0]["actor"], "admin");

    let (_, _, all) = send(&app, TestRequest::get().uri("/api/audit")).await;
    assert_eq!(all["count"], 7, "{all}");
    let (_, _, verified) = send(&app, TestRequest::get().uri("/api/audit/verify")).await;
    assert_eq!(verified, json!({"ok": true, "events": 7}));
}

async fn token_requests_are_validated(db: TestDatabase) {
    let app = app(state(&db).await).await;
    let post = |body: Value| TestRequest::post().uri("/api/tokens").set_json(body);
    let admin = json!([{"role": "admin", "namespace": "*"}]);
    for (body, expected) in [
        (json!({"grants": admin}), "name is required"),
        (json!({"name": "ci"}), "grants is required"),
        (
            json!({"name": "CI", "grants": admin}),
            "name must be 1 to 63 characters",
        ),
        (
            json!({"name": "ci", "grants": []}),
            "grants must hold 1 to 16 grants, got 0",
        ),
        (
            json!({"name": "ci", "grants": [{"role": "root", "namespace": "*"}]}),
            "role must be one of viewer, releaser, deployer, admin",
        ),
        (
            json!({"name": "ci", "grants": [{"role": "viewer", "namespace": "a*b"}]}),
            "namespace must be *, a name, or a name's start followed by *",
        ),
        (
            json!({"name": "ci", "grants": admin, "expiresInDays": 0}),
            "expiresInDays must be an integer from 1 to 3650, got 0",
        ),
        (
            json!({"name": "ci", "grants": admin, "expiresInDays": 3651}),
            "expiresInDays must be an integer from 1 to 3650, got 3651",
        ),
        (
            json!({"name": "ci", "grants": admin, "owner": "x"}),
            "unknown field",
        ),
    ] {
        let (status, _, response) = send(&app, post(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert!(message(&response).contains(expected), "{body}: {response}");
    }
    let (status, headers, created) = send(
        &app,
        post(json!({"name": "ci", "grants": admin, "expiresInDays": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        format!("/api/tokens/{id}").as_str()
    );
    let secret = created["token"].as_str().unwrap();
    assert!(
        secret.starts_with("knt_") && secret.len() >= 4 + 60,
        "{secret}"
    );
    assert_eq!(created["createdBy"], "admin");
    let expires = chrono::DateTime::parse_from_rfc3339(created["expiresOn"].as_str().unwrap())
        .unwrap()
        .to_utc();
    let in_a_day = Utc::now() + chrono::Duration::days(1);
    assert!((in_a_day - expires).num_seconds().abs() < 60, "{expires}");
    let (status, _, body) = send(&app, post(json!({"name": "ci", "grants": admin}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, _, fetched) = send(&app, TestRequest::get().uri(&format!("/api/tokens/{id}"))).await;
    assert!(fetched.get("token").is_none());
    assert_eq!(fetched["name"], "ci");
    let (status, _, _) = send(
        &app,
        TestRequest::get().uri("/api/tokens/0192f1c2-0000-7000-8000-000000000000"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = send(&app, TestRequest::get().uri("/api/tokens?revoked=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = send(&app, TestRequest::get().uri("/api/audit?since=yesterday")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = send(&app, TestRequest::get().uri("/api/audit?action=nope")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, me) = send(&app, TestRequest::get().uri("/api/whoami")).await;
    assert_eq!(
        me,
        json!({"name": "admin", "grants": [{"role": "admin", "namespace": "*", "context": "*"}], "expiresOn": null})
    );
}

async fn a_revocation_reaches_another_server_within_five_seconds(db: TestDatabase) {
    // Two apps, each with its own pool and token cache, stand for two replicas.
    let first = app(state(&db).await).await;
    let second = app(state(&db).await).await;
    let ci = token(&first, "ci", json!([{"role": "viewer", "namespace": "*"}])).await;
    let whoami = || {
        TestRequest::get()
            .uri("/api/whoami")
            .insert_header(bearer(&ci))
    };
    let (status, _, _) = send(&second, whoami()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the second server resolved and cached it"
    );
    let (_, _, tokens) = send(&first, TestRequest::get().uri("/api/tokens?name=ci")).await;
    let id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = send(
        &first,
        TestRequest::delete().uri(&format!("/api/tokens/{id}")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&first, whoami()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "refused at once where revoked"
    );
    let revoked_at = tokio::time::Instant::now();
    loop {
        let (status, _, _) = send(&second, whoami()).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            revoked_at.elapsed() < Duration::from_secs(6),
            "the second server still accepts the revoked token"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn last_use_is_recorded(db: TestDatabase) {
    let app = app(state(&db).await).await;
    let ci = token(&app, "ci", json!([{"role": "viewer", "namespace": "*"}])).await;
    let (_, _, before) = send(&app, TestRequest::get().uri("/api/tokens?name=ci")).await;
    assert!(before["items"][0]["lastUsedOn"].is_null());
    let (status, _, _) = send(
        &app,
        TestRequest::get()
            .uri("/api/releases")
            .insert_header(bearer(&ci)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, after) = send(&app, TestRequest::get().uri("/api/tokens?name=ci")).await;
    assert!(after["items"][0]["lastUsedOn"].is_string(), "{after}");
}

async fn repeated_failures_from_one_address_get_429(db: TestDatabase) {
    // 60 a minute: one more failure is allowed every second once they are spent.
    let app = app(state_allowing(&db, 60).await).await;
    let from = |address: &str, token: &str| {
        TestRequest::get()
            .uri("/api/whoami")
            .peer_addr(format!("{address}:40000").parse().unwrap())
            .insert_header(bearer(token))
    };
    // The first 60 failures are 401s; soon after, while they are not yet replenished, a 429.
    let mut failures = 0;
    let (headers, body) = loop {
        let (status, headers, body) = send_anonymous(&app, from("10.0.0.1", "knt_guess")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            break (headers, body);
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        failures += 1;
        assert!(failures < 90, "no 429 after {failures} failures");
    };
    assert!(failures >= 60, "a 429 after only {failures} failures");
    let retry: u64 = headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, 1);
    assert_eq!(
        message(&body),
        format!("too many failed authentications from this address; try again in {retry} s")
    );
    let (status, _, _) = send_anonymous(&app, from("10.0.0.1", ADMIN)).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a blocked address is not even checked"
    );
    let (status, _, _) = send_anonymous(&app, from("10.0.0.2", ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "other addresses are not affected");
    tokio::time::sleep(Duration::from_secs(retry + 1)).await;
    let (status, _, _) = send_anonymous(&app, from("10.0.0.1", ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "the block ends");
}

macro_rules! auth_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name(TestDatabase::sqlite()).await;
                }
            )*
        }

        mod postgres {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[actix_web::test]
                #[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
                async fn $name() {
                    super::$name(TestDatabase::postgres()).await;
                }
            )*
        }
    };
}

auth_tests!(
    every_endpoint_needs_a_valid_token,
    grants_decide_and_refusals_name_what_is_missing,
    reads_outside_the_grants_are_404_and_lists_leave_them_out,
    every_change_writes_exactly_one_audit_event,
    token_requests_are_validated,
    a_revocation_reaches_another_server_within_five_seconds,
    last_use_is_recorded,
    repeated_failures_from_one_address_get_429,
);
