//! The client against the real `kubernaut-server` binary (sandbox context, SQLite), with the
//! test server's bootstrap admin token unless a test says otherwise.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kubernaut_client::{
    AuditFilter, Client, ClientError, CreateDeployment, CreateRelease, CreateToken,
    DeploymentFilter, DeploymentStatus, GrantBody, Paging, ReleaseFilter, ServiceFilter,
    TokenFilter,
};
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{ADMIN_TOKEN, Server};

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

/// A client of `server` with the bootstrap admin token.
fn admin(server: &Server) -> Client {
    Client::new(&server.url(""))
        .unwrap()
        .with_token(ADMIN_TOKEN)
        .unwrap()
}

fn release(version: &str) -> CreateRelease {
    CreateRelease {
        service: Some("hello".to_owned()),
        version: Some(version.to_owned()),
        template: Some(TEMPLATE.to_owned()),
        attributes: BTreeMap::from([("image".to_owned(), format!("hello:{version}"))]),
        ..CreateRelease::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_deployments_services_and_contexts() {
    let db = TestDatabase::sqlite();
    let server = tokio::task::spawn_blocking(move || {
        let server = Server::start_with(db.url(), &["--sandbox"], &[]);
        (server, db)
    })
    .await
    .unwrap();
    let client = admin(&server.0);

    let created = client.create_release(&release("1")).await.unwrap();
    assert!(created.created);
    let repeated = client.create_release(&release("1")).await.unwrap();
    assert!(!repeated.created);
    assert_eq!(repeated.body.id, created.body.id);
    client.create_release(&release("2")).await.unwrap();

    let listed = client
        .releases(
            &ReleaseFilter {
                service: Some("hello".to_owned()),
                ..ReleaseFilter::default()
            },
            Paging {
                limit: Some(1),
                offset: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((listed.count, listed.items.len()), (2, 1));
    assert_eq!(listed.items[0].version, "2");
    let fetched = client.release(&created.body.id.to_string()).await.unwrap();
    assert_eq!(fetched.template.source.as_deref(), Some(TEMPLATE));

    let contexts = client.contexts(Paging::default()).await.unwrap();
    assert_eq!(contexts.items[0].name, "sandbox");

    let deployment = client
        .create_deployment(
            &CreateDeployment {
                service: Some("hello".to_owned()),
                version: Some("2".to_owned()),
                context: Some("sandbox".to_owned()),
                ..CreateDeployment::default()
            },
            Some(30),
        )
        .await
        .unwrap();
    assert_eq!(deployment.status, DeploymentStatus::Succeeded);
    let id = deployment.id.to_string();
    let fetched = client.deployment(&id).await.unwrap();
    assert!(fetched.manifest.unwrap().contains("image: \"hello:2\""));
    let listed = client
        .deployments(
            &DeploymentFilter {
                status: Some("succeeded".to_owned()),
                ..DeploymentFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.count, 1);
    assert!(listed.items[0].log.is_none());

    let services = client
        .services(&ServiceFilter::default(), Paging::default())
        .await
        .unwrap();
    let service = client
        .service(&services.items[0].id.to_string())
        .await
        .unwrap();
    assert_eq!(service.latest_release.unwrap().version, "2");
    assert_eq!(service.latest_deployments["sandbox"].id, deployment.id);

    client.delete_deployment(&id).await.unwrap();
    client
        .delete_release(&created.body.id.to_string())
        .await
        .unwrap();
    let gone = client.deployment(&id).await.unwrap_err();
    assert_eq!(gone.status(), Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_servers_message_and_status() {
    let db = TestDatabase::sqlite();
    let server = tokio::task::spawn_blocking(move || (Server::start(db.url()), db))
        .await
        .unwrap();
    let client = admin(&server.0);

    let mut bad = release("1");
    bad.service = Some("Not_A_Label".to_owned());
    match client.create_release(&bad).await.unwrap_err() {
        ClientError::Api { status, message } => {
            assert_eq!(status, 400);
            assert!(
                message.starts_with("service must be a DNS-1123 label"),
                "{message}"
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    // Ids are path segments, encoded: no way to reach another route.
    let error = client.release("../services").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    // Without retries (tests/retry.rs retries against a refusing port).
    let error = Client::new("http://127.0.0.1:9")
        .unwrap()
        .with_retry_budget(Duration::ZERO)
        .contexts(Paging::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("cannot reach kubernaut at http://127.0.0.1:9: "),
        "{error}"
    );
    let invalid = Client::new("ftp://example.com").unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "invalid server URL \"ftp://example.com\": the scheme must be http or https"
    );
    for (without_scheme, reason) in [
        ("127.0.0.1:8080", "relative URL without a base"),
        ("localhost:8080", "the scheme must be http or https"),
    ] {
        assert_eq!(
            Client::new(without_scheme).unwrap_err().to_string(),
            format!(
                "invalid server URL \"{without_scheme}\": {reason}; write it with its scheme, \
                 e.g. http://{without_scheme}"
            )
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_whoami_and_the_audit_log() {
    let db = TestDatabase::sqlite();
    let server = tokio::task::spawn_blocking(move || {
        let server = Server::start_with(db.url(), &["--sandbox"], &[]);
        (server, db)
    })
    .await
    .unwrap();
    let url = server.0.url("");
    let client = admin(&server.0);

    let me = client.whoami().await.unwrap();
    assert_eq!(me.name, "admin");

    let grant = GrantBody {
        role: "deployer".to_owned(),
        namespace: "default".to_owned(),
        context: Some("staging-*".to_owned()),
    };
    let created = client
        .create_token(&CreateToken {
            name: Some("ci-hello".to_owned()),
            grants: Some(vec![grant.clone()]),
            expires_in_days: Some(30),
        })
        .await
        .unwrap();
    assert_eq!(created.name, "ci-hello");
    assert_eq!(created.created_by, "admin");
    assert!(created.expires_on.is_some());
    let secret = created.token.clone().expect("the secret, shown once");
    let id = created.id.to_string();

    let listed = client
        .tokens(
            &TokenFilter {
                name: Some("ci-hello".to_owned()),
                ..TokenFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.count, 1);
    assert_eq!(listed.items[0].id, created.id);
    assert_eq!(listed.items[0].token, None, "the secret is shown once only");
    let fetched = client.token(&id).await.unwrap();
    assert_eq!(fetched.grants, created.grants);
    assert_eq!(fetched.token, None);
    assert_eq!(fetched.revoked_on, None);

    let ci = Client::new(&url).unwrap().with_token(&secret).unwrap();
    let who = ci.whoami().await.unwrap();
    assert_eq!(who.name, "ci-hello");
    assert_eq!(who.grants.len(), 1);
    assert_eq!(who.grants[0].role, "deployer");
    assert_eq!(who.grants[0].context.as_deref(), Some("staging-*"));
    // Only global admins manage tokens: a 403 with the server's message.
    match ci
        .tokens(&TokenFilter::default(), Paging::default())
        .await
        .unwrap_err()
    {
        ClientError::Api { status, message } => {
            assert_eq!(status, 403);
            assert!(!message.is_empty());
        }
        other => panic!("expected a 403, got {other:?}"),
    }

    // No token, or an unknown one: a 401 with the server's message.
    for anonymous in [
        Client::new(&url).unwrap(),
        Client::new(&url)
            .unwrap()
            .with_token("knt_not-a-token-of-this-server-0123456789")
            .unwrap(),
    ] {
        match anonymous.contexts(Paging::default()).await.unwrap_err() {
            ClientError::Api { status, message } => {
                assert_eq!(status, 401);
                assert!(!message.is_empty());
            }
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    client.revoke_token(&id).await.unwrap();
    let revoked = client.token(&id).await.unwrap();
    assert!(revoked.revoked_on.is_some());
    let revoked_list = client
        .tokens(
            &TokenFilter {
                revoked: Some(true),
                ..TokenFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(revoked_list.count, 1);
    assert_eq!(revoked_list.items[0].id, created.id);
    let active = client
        .tokens(
            &TokenFilter {
                revoked: Some(false),
                ..TokenFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert!(active.items.iter().all(|t| t.id != created.id));

    // A token the server has cached may work for up to 5 s more.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        match ci.whoami().await {
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(_) => panic!("the revoked token still works after 10 s"),
            Err(error) => break error,
        }
    };
    match refused {
        ClientError::Api { status, message } => {
            assert_eq!(status, 401);
            assert!(!message.is_empty());
        }
        other => panic!("expected a 401, got {other:?}"),
    }

    let creations = client
        .audit(
            &AuditFilter {
                actor: Some("admin".to_owned()),
                action: Some("token.create".to_owned()),
                ..AuditFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(creations.count, 1, "{creations:?}");
    let event = &creations.items[0];
    assert_eq!(event.actor, "admin");
    assert_eq!(event.resource_type, "token");
    assert_eq!(event.resource_id.as_deref(), Some(id.as_str()));
    assert!(
        !serde_json::to_string(&event.details)
            .unwrap()
            .contains(&secret),
        "no secret in the audit log"
    );
    let by_actor = client
        .audit(
            &AuditFilter {
                actor: Some("admin".to_owned()),
                resource_type: Some("token".to_owned()),
                since: Some("2000-01-01T00:00:00Z".to_owned()),
                ..AuditFilter::default()
            },
            Paging {
                limit: Some(1),
                offset: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((by_actor.count, by_actor.items.len()), (2, 1));
    assert_eq!(by_actor.items[0].action, "token.revoke", "newest first");
    let before = client
        .audit(
            &AuditFilter {
                until: Some("2000-01-01T00:00:00Z".to_owned()),
                ..AuditFilter::default()
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(before.count, 0);

    let verified = client.verify_audit().await.unwrap();
    assert!(verified.ok, "{verified:?}");
    assert!(verified.events >= 2, "{verified:?}");
    assert_eq!(verified.first_bad_event, None);
}
