//! What the API's integration tests share: the app on a store, and requests that return the
//! status, headers and JSON body.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{App, test};
use kubernaut_api::AppState;
use kubernaut_cluster::Contexts;
use kubernaut_store::Store;
use serde_json::Value;

/// State on `store` with no contexts.
pub fn state(store: Store) -> AppState {
    AppState::new(store, Arc::new(Contexts::from_clusters(Vec::new())))
}

/// The app with the API mounted.
pub async fn app(
    state: AppState,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(App::new().configure(kubernaut_api::configure(state))).await
}

/// Sends `req` and returns the status, the headers and the body parsed as JSON (`Null` if empty).
pub async fn send<S, B>(app: &S, req: test::TestRequest) -> (StatusCode, header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {body:?}"))
    };
    (status, headers, json)
}

/// The `message` of an error body.
pub fn message(body: &Value) -> &str {
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
}
