//! Kubernaut's REST API (see `docs/api.md`): actix-web handlers, wire types, and the mapping of
//! every error to a status and a JSON `{"message": ...}` body, in [`ApiError`].
//!
//! The server mounts it with `App::new().configure(kubernaut_api::configure(state))`. Handlers
//! stay thin: they authenticate the caller, parse input into domain values, call the shared
//! operations of `kubernaut-app` (which check grants and write audit events), and shape the
//! response.

mod auth;
mod body;
mod error;
mod handlers;
mod observe;
mod openapi;
mod query;
mod wire;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{Method, header};
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse, Route};
use kubernaut_app::App;

pub use error::ApiError;
pub use observe::{REQUEST_ID, observe};
pub use openapi::document as openapi_document;

/// The largest request body accepted by default: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared operations.
    pub app: App,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
}

impl AppState {
    /// State with the default body limit.
    pub fn new(app: App) -> Self {
        Self {
            app,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

/// Mounts the API's routes, and extractor settings that turn every extractor error into a
/// JSON 400/413/415, on an actix-web app.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let limit = state.body_limit;
        cfg.app_data(Data::new(state))
            .app_data(
                web::JsonConfig::default()
                    .limit(limit)
                    .error_handler(|e, _| json_error(e).into()),
            )
            .app_data(web::PayloadConfig::new(limit))
            .app_data(
                web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
                    ApiError::BadRequest(format!("the query string is invalid: {e}")).into()
                }),
            )
            .app_data(web::PathConfig::default().error_handler(|e: PathError, _| {
                ApiError::NotFound(format!("the path is invalid: {e}")).into()
            }))
            .default_service(web::to(unknown_route));
        for (path, routes) in endpoints() {
            cfg.service(resource(path, routes));
        }
    }
}

/// Every route the API serves: a path and its methods with their handlers. The OpenAPI
/// document describes exactly these (a test holds them to it).
fn endpoints() -> Vec<(&'static str, Vec<(Method, Route)>)> {
    use handlers::{
        audit, contexts, deployments, health, notifications, releases, services, tokens,
    };
    let get = |route: Route| (Method::GET, route);
    vec![
        ("/healthz", vec![get(web::get().to(health::healthz))]),
        ("/readyz", vec![get(web::get().to(health::readyz))]),
        ("/metrics", vec![get(web::get().to(health::metrics))]),
        (
            "/api/openapi.json",
            vec![get(web::get().to(openapi::openapi_json))],
        ),
        (
            "/api/releases",
            vec![
                get(web::get().to(releases::list)),
                (Method::POST, web::post().to(releases::create)),
            ],
        ),
        (
            "/api/releases/{id}",
            vec![
                get(web::get().to(releases::get)),
                (Method::DELETE, web::delete().to(releases::delete)),
            ],
        ),
        (
            "/api/deployments",
            vec![
                get(web::get().to(deployments::list)),
                (Method::POST, web::post().to(deployments::create)),
            ],
        ),
        (
            "/api/deployments/{id}",
            vec![
                get(web::get().to(deployments::get)),
                (Method::DELETE, web::delete().to(deployments::delete)),
            ],
        ),
        (
            "/api/tokens",
            vec![
                get(web::get().to(tokens::list)),
                (Method::POST, web::post().to(tokens::create)),
            ],
        ),
        (
            "/api/tokens/{id}",
            vec![
                get(web::get().to(tokens::get)),
                (Method::DELETE, web::delete().to(tokens::revoke)),
            ],
        ),
        (
            "/api/deployments/{id}/cancel",
            vec![(Method::POST, web::post().to(deployments::cancel))],
        ),
        (
            "/api/deployments/{id}/notifications",
            vec![get(web::get().to(notifications::deliveries))],
        ),
        (
            "/api/webhooks",
            vec![get(web::get().to(notifications::webhooks))],
        ),
        ("/api/whoami", vec![get(web::get().to(tokens::whoami))]),
        ("/api/audit", vec![get(web::get().to(audit::list))]),
        ("/api/audit/verify", vec![get(web::get().to(audit::verify))]),
        ("/api/contexts", vec![get(web::get().to(contexts::list))]),
        ("/api/services", vec![get(web::get().to(services::list))]),
        (
            "/api/services/{id}",
            vec![get(web::get().to(services::get))],
        ),
        (
            "/api/services/{id}/live",
            vec![get(web::get().to(services::live))],
        ),
    ]
}

/// Every `(method, path)` the API serves, paths as patterns (`/api/releases/{id}`).
pub fn routes() -> Vec<(String, String)> {
    endpoints()
        .into_iter()
        .flat_map(|(path, routes)| {
            routes
                .into_iter()
                .map(move |(method, _)| (method.to_string(), path.to_owned()))
        })
        .collect()
}

/// A resource whose other methods get a JSON 405 naming the allowed ones.
fn resource(path: &str, routes: Vec<(Method, Route)>) -> actix_web::Resource {
    let allow = routes
        .iter()
        .map(|(method, _)| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    routes
        .into_iter()
        .fold(web::resource(path), |resource, (_, route)| {
            resource.route(route)
        })
        .default_service(web::to(move |req: HttpRequest| {
            let allow = allow.clone();
            async move { method_not_allowed(&req, &allow) }
        }))
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge(format!(
            "the request body is larger than the limit of {limit} bytes"
        )),
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".to_owned())
        }
        other => ApiError::BadRequest(format!("the request body is not valid JSON: {other}")),
    }
}

/// The JSON 404 of a path no route serves.
pub async fn unknown_route(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound(format!(
        "no such route: {} {}",
        req.method(),
        req.path()
    )))
}

fn method_not_allowed(req: &HttpRequest, allow: &str) -> HttpResponse {
    let error = ApiError::MethodNotAllowed(format!(
        "method {} is not allowed on {}; use {allow}",
        req.method(),
        req.path()
    ));
    let mut response = actix_web::ResponseError::error_response(&error);
    if let Ok(allow) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}
