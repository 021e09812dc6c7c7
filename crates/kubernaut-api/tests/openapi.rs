//! The OpenAPI document describes exactly the routes the API serves, each with its token
//! requirement and its answers, and is served without a token.

mod common;

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{app, send_anonymous};
use kubernaut_store::testing::TestDatabase;
use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&kubernaut_api::openapi_document()).unwrap()
}

/// The `(METHOD, path)` pairs the document describes.
fn described(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn every_route_is_described_and_every_description_is_a_route() {
    let document = document();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let routes: BTreeSet<(String, String)> = kubernaut_api::routes().into_iter().collect();
    let described = described(&document);
    let undescribed: Vec<_> = routes.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&routes).collect();
    assert!(
        undescribed.is_empty(),
        "routes without a description: {undescribed:?}"
    );
    assert!(
        unserved.is_empty(),
        "descriptions without a route: {unserved:?}"
    );
}

#[test]
fn every_api_operation_needs_a_token_and_says_what_it_answers() {
    let document = document();
    for (method, path) in described(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} has no success answer"
        );
        let open = !path.starts_with("/api/") || path == "/api/openapi.json";
        if open {
            assert!(operation.get("security").is_none(), "{method} {path}");
            continue;
        }
        assert_eq!(
            operation["security"],
            serde_json::json!([{"bearer": []}]),
            "{method} {path}"
        );
        for status in ["401", "429", "503"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                // The error body, by reference or inlined.
                let schema = &response["content"]["application/json"]["schema"];
                assert!(
                    schema["$ref"] == "#/components/schemas/ErrorBody"
                        || schema["required"] == serde_json::json!(["message"]),
                    "{method} {path} {status}: {schema}"
                );
            }
        }
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[actix_web::test]
async fn the_document_is_served_without_a_token() {
    let db = TestDatabase::sqlite();
    let app = app(common::state(db.open()).await).await;
    let (status, _, served) =
        send_anonymous(&app, TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, document());
}
