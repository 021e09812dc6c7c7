//! The client against the real `kubernaut-server` binary (sandbox context, SQLite).

use std::collections::BTreeMap;

use kubernaut_client::{
    Client, ClientError, CreateDeployment, CreateRelease, DeploymentFilter, DeploymentStatus,
    Paging, ReleaseFilter, ServiceFilter,
};
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::Server;

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
    let client = Client::new(&server.0.url("")).unwrap();

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
    let client = Client::new(&server.0.url("")).unwrap();

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
    let error = Client::new("http://127.0.0.1:9")
        .unwrap()
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
}
