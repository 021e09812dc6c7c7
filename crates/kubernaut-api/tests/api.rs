//! The API's status codes and bodies, driven through the real actix-web app on SQLite (and on
//! PostgreSQL where a test needs a server to take down).

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::test;
use common::{app, message, send};
use kubernaut_api::AppState;
use kubernaut_store::testing::TestDatabase;
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

fn release(service: &str, version: &str, image: &str) -> Value {
    json!({
        "service": service,
        "version": version,
        "template": TEMPLATE,
        "attributes": {"image": image, "commit": "3f2a9c1"},
    })
}

fn post_json(body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/releases")
        .set_json(body)
}

#[actix_web::test]
async fn a_json_release_is_created_then_repeated_idempotently() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;

    let (status, headers, created) =
        send(&app, post_json(&release("hello-world", "42", "nginx:1"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        format!("/api/releases/{id}").as_str()
    );
    assert!(
        headers
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(created["service"]["name"], "hello-world");
    assert_eq!(created["service"]["namespace"], "default");
    assert_eq!(created["version"], "42");
    assert_eq!(created["template"]["source"], TEMPLATE);
    assert_eq!(created["template"]["checksum"].as_str().unwrap().len(), 64);
    assert_eq!(
        created["attributes"],
        json!({"image": "nginx:1", "commit": "3f2a9c1"})
    );
    assert_eq!(created["createdBy"], "admin");
    let created_on = created["createdOn"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_on).is_ok() && created_on.ends_with('Z'));

    let (status, _, again) = send(&app, post_json(&release("hello-world", "42", "nginx:1"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, created);

    let (status, _, fetched) = send(
        &app,
        test::TestRequest::get().uri(&format!("/api/releases/{id}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A read carries no warnings: they belong to the answer of a POST.
    let mut without_warnings = created.clone();
    let warnings = without_warnings
        .as_object_mut()
        .unwrap()
        .remove("warnings")
        .unwrap();
    assert_eq!(
        warnings,
        json!([
            "attribute commit is not used by the template: it is stored with the release but \
                renders nothing (is it a variable's name misspelled?)"
        ])
    );
    assert_eq!(fetched, without_warnings);
}

#[actix_web::test]
async fn the_same_version_with_other_content_is_a_conflict() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    send(&app, post_json(&release("hello", "42", "nginx:1"))).await;
    let (status, _, body) = send(&app, post_json(&release("hello", "42", "nginx:2"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&body),
        "release 42 of service hello in namespace default already exists with different \
         attributes; release a new version instead"
    );
}

#[actix_web::test]
async fn a_multipart_release_is_accepted_like_curl_sends_it() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let boundary = "XyZboundary";
    let mut body = String::new();
    for (name, value) in [
        ("service", "jobs-api"),
        ("namespace", "jobs"),
        ("version", "7"),
        ("image", "r/jobs:7"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"template\"; filename=\"k.yaml\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{TEMPLATE}\r\n--{boundary}--\r\n"
    ));
    let req = test::TestRequest::post()
        .uri("/api/releases")
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body);
    let (status, _, created) = send(&app, req).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["service"]["namespace"], "jobs");
    assert_eq!(created["attributes"], json!({"image": "r/jobs:7"}));
    assert_eq!(created["template"]["source"], TEMPLATE);
}

#[actix_web::test]
async fn invalid_releases_get_a_400_naming_the_problem() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let with = |patch: Value| {
        let mut body = release("hello", "1", "nginx");
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (with(json!({"service": null})), "service is required"),
        (
            with(json!({"service": "Hello"})),
            "service must be a DNS-1123 label",
        ),
        (
            with(json!({"namespace": "a_b"})),
            "namespace must be a DNS-1123 label",
        ),
        (with(json!({"version": null})), "version is required"),
        (
            with(json!({"version": "1/2"})),
            "version must be 1 to 128 characters",
        ),
        (with(json!({"template": null})), "template is required"),
        (
            with(json!({"template": "  "})),
            "template must not be empty",
        ),
        (
            with(json!({"attributes": {"bad name": "x"}})),
            "attribute name \"bad name\" is invalid",
        ),
        (
            with(json!({"attributes": {"image": 3}})),
            "attributes.image: invalid type: integer `3`, expected a string",
        ),
        (
            with(json!({"attributes": {"image": "x", "version": "2"}})),
            "attribute version names a built-in variable",
        ),
        (
            with(json!({"attributes": {"image": "nginx\n---\nkind: ClusterRoleBinding"}})),
            "YAML document marker",
        ),
        (
            with(json!({"attributes": {"image": "x", "context": "prod"}})),
            "attribute context is reserved",
        ),
        (with(json!({"attributes": {"commit": "x"}})), "imag"),
        (
            with(
                json!({"template": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: other\n"}),
            ),
            "other",
        ),
        (with(json!({"template": "{{#image}}"})), "image"),
        (with(json!({"servcie": "typo"})), "unknown field `servcie`"),
    ];
    for (body, expected) in cases {
        let (status, _, response) = send(&app, post_json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {response}");
        assert!(
            message(&response).contains(expected),
            "{body}: {response} lacks {expected:?}"
        );
    }

    let req = test::TestRequest::post()
        .uri("/api/releases")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{not json");
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("not valid JSON"), "{body}");

    // Nothing was stored by any of them.
    let (_, _, list) = send(&app, test::TestRequest::get().uri("/api/releases")).await;
    assert_eq!(list["count"], 0);
    let (_, _, services) = send(&app, test::TestRequest::get().uri("/api/services")).await;
    assert_eq!(services["count"], 0);
}

#[actix_web::test]
async fn bodies_must_be_json_or_multipart_and_within_the_limit() {
    let db = TestDatabase::sqlite();
    let app = app(AppState {
        body_limit: 1024,
        ..common::state(db.open()).await
    })
    .await;

    let req = test::TestRequest::post()
        .uri("/api/releases")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload("service=x");
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&body).contains("text/plain"), "{body}");

    let req = test::TestRequest::post()
        .uri("/api/releases")
        .set_payload("{}");
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&body).contains("Content-Type"), "{body}");

    let big = release("hello", "1", &"x".repeat(2000));
    let (status, _, body) = send(&app, post_json(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        message(&body),
        "the request body is larger than the limit of 1024 bytes"
    );
}

#[actix_web::test]
async fn lists_page_filter_and_validate_their_parameters() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    for (service, version) in [("a", "1"), ("b", "1"), ("a", "2")] {
        let (status, _, _) = send(&app, post_json(&release(service, version, "nginx"))).await;
        assert_eq!(status, StatusCode::CREATED);
    }

    let (status, _, list) = send(&app, test::TestRequest::get().uri("/api/releases")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            list["count"].clone(),
            list["limit"].clone(),
            list["offset"].clone()
        ),
        (json!(3), json!(50), json!(0))
    );
    let versions: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["service"]["name"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(versions, ["a/2", "b/1", "a/1"]);
    assert!(list["items"][0]["template"].get("source").is_none());
    assert_eq!(list["items"][0]["attributes"]["image"], "nginx");

    let (_, _, page) = send(
        &app,
        test::TestRequest::get().uri("/api/releases?service=a&limit=1&offset=1"),
    )
    .await;
    assert_eq!(page["count"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["version"], "1");

    let (_, _, versions) = send(
        &app,
        test::TestRequest::get().uri("/api/releases?version=1&namespace=default"),
    )
    .await;
    assert_eq!(versions["count"], 2);

    for (query, expected) in [
        (
            "limit=0",
            "limit must be an integer from 1 to 1000, got \"0\"",
        ),
        ("limit=1001", "limit must be"),
        ("limit=ten", "limit must be"),
        (
            "offset=-1",
            "offset must be an integer of 0 or more, got \"-1\"",
        ),
        ("servcie=a", "unknown query parameter \"servcie\""),
        (
            "service=a&service=b",
            "query parameter service is given more than once",
        ),
        ("service=Not_A_Label", "service must be a DNS-1123 label"),
    ] {
        let (status, _, body) = send(
            &app,
            test::TestRequest::get().uri(&format!("/api/releases?{query}")),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(message(&body).contains(expected), "{query}: {body}");
    }
}

#[actix_web::test]
async fn delete_is_soft_idempotent_and_404_for_unknown_ids() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let (_, _, created) = send(&app, post_json(&release("hello", "1", "nginx"))).await;
    let uri = format!("/api/releases/{}", created["id"].as_str().unwrap());

    let (status, _, body) = send(&app, test::TestRequest::delete().uri(&uri)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _, _) = send(&app, test::TestRequest::delete().uri(&uri)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&app, test::TestRequest::get().uri(&uri)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&body).ends_with("does not exist"), "{body}");
    let (_, _, list) = send(&app, test::TestRequest::get().uri("/api/releases")).await;
    assert_eq!(list["count"], 0);

    let unknown = "/api/releases/8a6e0804-2bd0-4672-b79d-d97027f9071a";
    for req in [
        test::TestRequest::get().uri(unknown),
        test::TestRequest::delete().uri(unknown),
    ] {
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, _, body) = send(
        &app,
        test::TestRequest::get().uri("/api/releases/not-a-uuid"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "release not-a-uuid does not exist");
}

#[actix_web::test]
async fn services_show_their_latest_release() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    send(&app, post_json(&release("hello", "1", "nginx"))).await;
    let (_, _, latest) = send(&app, post_json(&release("hello", "2", "nginx"))).await;

    let (status, _, list) = send(
        &app,
        test::TestRequest::get().uri("/api/services?name=hello"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 1);
    let service = &list["items"][0];
    assert_eq!(
        (service["name"].as_str(), service["namespace"].as_str()),
        (Some("hello"), Some("default"))
    );

    let uri = format!("/api/services/{}", service["id"].as_str().unwrap());
    let (status, _, detail) = send(&app, test::TestRequest::get().uri(&uri)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["latestRelease"]["id"], latest["id"]);
    assert_eq!(detail["latestRelease"]["version"], "2");

    let (status, _, _) = send(&app, test::TestRequest::get().uri("/api/services/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = send(
        &app,
        test::TestRequest::get().uri("/api/services?name=hello&colour=red"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[actix_web::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let (status, _, body) = send(&app, test::TestRequest::get().uri("/api/nothing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "no such route: GET /api/nothing");
    let (status, headers, body) = send(&app, test::TestRequest::put().uri("/api/releases")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers.get(header::ALLOW).unwrap(), "GET, POST");
    assert_eq!(
        message(&body),
        "method PUT is not allowed on /api/releases; use GET, POST"
    );
}

#[actix_web::test]
async fn health_and_readiness() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let (status, _, body) = send(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, _, body) = send(&app, test::TestRequest::get().uri("/readyz")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));
}

#[actix_web::test]
#[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
async fn a_database_that_goes_away_is_a_503_not_a_hang() {
    let db = TestDatabase::postgres();
    let store = kubernaut_store::Store::open(
        db.url(),
        &kubernaut_store::StoreOptions {
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_millis(500),
        },
    )
    .unwrap();
    let app = app(common::state(store).await).await;
    let (status, _, _) = send(&app, post_json(&release("hello", "1", "nginx"))).await;
    assert_eq!(status, StatusCode::CREATED);

    drop(db); // drops the database, terminating its connections

    let (status, headers, body) = send(&app, post_json(&release("hello", "2", "nginx"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        message(&body).starts_with("the database is unavailable"),
        "{body}"
    );
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "5");
    let (status, _, _) = send(&app, test::TestRequest::get().uri("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
