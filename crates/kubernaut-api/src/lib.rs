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
mod query;
mod wire;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse, Route};
use kubernaut_app::App;

pub use error::ApiError;

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
            .service(resource(
                "/healthz",
                "GET",
                [web::get().to(handlers::health::healthz)],
            ))
            .service(resource(
                "/readyz",
                "GET",
                [web::get().to(handlers::health::readyz)],
            ))
            .service(resource(
                "/api/releases",
                "GET, POST",
                [
                    web::get().to(handlers::releases::list),
                    web::post().to(handlers::releases::create),
                ],
            ))
            .service(resource(
                "/api/releases/{id}",
                "GET, DELETE",
                [
                    web::get().to(handlers::releases::get),
                    web::delete().to(handlers::releases::delete),
                ],
            ))
            .service(resource(
                "/api/deployments",
                "GET, POST",
                [
                    web::get().to(handlers::deployments::list),
                    web::post().to(handlers::deployments::create),
                ],
            ))
            .service(resource(
                "/api/deployments/{id}",
                "GET, DELETE",
                [
                    web::get().to(handlers::deployments::get),
                    web::delete().to(handlers::deployments::delete),
                ],
            ))
            .service(resource(
                "/api/tokens",
                "GET, POST",
                [
                    web::get().to(handlers::tokens::list),
                    web::post().to(handlers::tokens::create),
                ],
            ))
            .service(resource(
                "/api/tokens/{id}",
                "GET, DELETE",
                [
                    web::get().to(handlers::tokens::get),
                    web::delete().to(handlers::tokens::revoke),
                ],
            ))
            .service(resource(
                "/api/whoami",
                "GET",
                [web::get().to(handlers::tokens::whoami)],
            ))
            .service(resource(
                "/api/audit",
                "GET",
                [web::get().to(handlers::audit::list)],
            ))
            .service(resource(
                "/api/audit/verify",
                "GET",
                [web::get().to(handlers::audit::verify)],
            ))
            .service(resource(
                "/api/contexts",
                "GET",
                [web::get().to(handlers::contexts::list)],
            ))
            .service(resource(
                "/api/services",
                "GET",
                [web::get().to(handlers::services::list)],
            ))
            .service(resource(
                "/api/services/{id}",
                "GET",
                [web::get().to(handlers::services::get)],
            ))
            .default_service(web::to(unknown_route));
    }
}

/// A resource whose other methods get a JSON 405 naming the `allow`ed ones.
fn resource<const N: usize>(
    path: &str,
    allow: &'static str,
    routes: [Route; N],
) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), |resource, route| resource.route(route))
        .default_service(web::to(move |req: HttpRequest| async move {
            method_not_allowed(&req, allow)
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

async fn unknown_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no such route: {} {}",
        req.method(),
        req.path()
    )))
}

fn method_not_allowed(req: &HttpRequest, allow: &'static str) -> HttpResponse {
    let error = ApiError::MethodNotAllowed(format!(
        "method {} is not allowed on {}; use {allow}",
        req.method(),
        req.path()
    ));
    let mut response = actix_web::ResponseError::error_response(&error);
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}
