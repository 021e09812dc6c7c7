//! What the API's integration tests share: the app on a store, and requests that return the
//! status, headers and JSON body.

use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::test;
use kubernaut_api::AppState;
use kubernaut_app::{App, AuthOptions};
use kubernaut_cluster::Contexts;
use kubernaut_store::Store;
use serde_json::Value;

/// The secret of the global-admin token every test app starts with.
pub const ADMIN: &str = "knt_api-test-admin-0123456789abcdef0123456789ab";

/// State on `store` with `contexts`, and the global admin [`ADMIN`].
pub async fn state_with(store: Store, contexts: Arc<Contexts>) -> AppState {
    state_with_auth(store, contexts, &AuthOptions::default()).await
}

/// State on `store` with `contexts` and these authentication limits, and the global admin
/// [`ADMIN`].
pub async fn state_with_auth(
    store: Store,
    contexts: Arc<Contexts>,
    auth: &AuthOptions,
) -> AppState {
    let app = App::new(store, contexts, auth);
    app.bootstrap_admin(Some(ADMIN.to_owned())).await.unwrap();
    AppState::new(app)
}

/// State on `store` with no contexts, and the global admin [`ADMIN`].
#[allow(dead_code, reason = "not every test file uses every helper")]
pub async fn state(store: Store) -> AppState {
    state_with(store, Arc::new(Contexts::from_clusters(Vec::new()))).await
}

/// The app with the API mounted.
pub async fn app(
    state: AppState,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(actix_web::App::new().configure(kubernaut_api::configure(state))).await
}

#[allow(dead_code, reason = "not every test file uses every helper")]
/// Sends `req` as the global admin (unless it carries its own `Authorization`) and returns the
/// status, the headers and the body parsed as JSON (`Null` if empty).
pub async fn send<S, B>(app: &S, req: test::TestRequest) -> (StatusCode, header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = req.to_request();
    if !req.headers().contains_key(header::AUTHORIZATION) {
        req.headers_mut().insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_str(&format!("Bearer {ADMIN}")).unwrap(),
        );
    }
    send_request(app, req).await
}

/// Sends `req` as it is (no token unless it has one).
#[allow(dead_code, reason = "not every test file uses every helper")]
pub async fn send_anonymous<S, B>(
    app: &S,
    req: test::TestRequest,
) -> (StatusCode, header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send_request(app, req.to_request()).await
}

async fn send_request<S, B>(
    app: &S,
    req: actix_http::Request,
) -> (StatusCode, header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req).await;
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
#[allow(dead_code, reason = "not every test file uses every helper")]
pub fn message(body: &Value) -> &str {
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
}
