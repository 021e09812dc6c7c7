//! The OpenAPI 3.1 document of the API, generated from the handlers' `#[utoipa::path]`
//! attributes and the bodies of `kubernaut-wire`, served at `GET /api/openapi.json`.

use actix_web::HttpResponse;
use kubernaut_wire::ErrorBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::handlers;

/// Paging of every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct Paging {
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<u64>,
}

/// Filters of `GET /api/releases`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct ReleaseFilters {
    /// Service name.
    service: Option<String>,
    /// Namespace.
    namespace: Option<String>,
    /// Version.
    version: Option<String>,
}

/// Filters of `GET /api/deployments`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct DeploymentFilters {
    /// Service name.
    service: Option<String>,
    /// Namespace.
    namespace: Option<String>,
    /// Version.
    version: Option<String>,
    /// Context.
    context: Option<String>,
    /// Status: pending, applying, rolling_out, succeeded, failed or canceled.
    status: Option<String>,
    /// Release id.
    release: Option<String>,
}

/// Filters of `GET /api/services`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct ServiceFilters {
    /// Service name.
    name: Option<String>,
    /// Namespace.
    namespace: Option<String>,
}

/// Filters of `GET /api/tokens`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct TokenFilters {
    /// Token name.
    name: Option<String>,
    /// Only revoked tokens (true) or only live ones (false).
    revoked: Option<bool>,
}

/// Filters of `GET /api/audit`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code, reason = "describes query parameters; never built")]
pub(crate) struct AuditFilters {
    /// Token name that acted.
    actor: Option<String>,
    /// release.create, release.delete, deployment.create, deployment.delete,
    /// deployment.cancel, token.create, token.revoke or access.denied.
    action: Option<String>,
    /// release, deployment, token or audit.
    resource_type: Option<String>,
    /// The record's id.
    resource_id: Option<String>,
    /// Namespace.
    namespace: Option<String>,
    /// Context.
    context: Option<String>,
    /// Events at or after this RFC 3339 time.
    since: Option<String>,
    /// Events at or before this RFC 3339 time.
    until: Option<String>,
}

/// What every operation that needs a token may answer before it does anything.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes answers; never built")]
pub(crate) enum Refusals {
    /// No valid token: missing, malformed, unknown, expired or revoked; with WWW-Authenticate.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorBody),
    /// Too many failed authentications from this address; with Retry-After.
    #[response(status = 429)]
    TooManyRequests(#[to_schema] ErrorBody),
    /// The database is unavailable; with Retry-After.
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}

/// Adds the bearer-token security scheme.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: Authorization: Bearer knt_..."))
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "kubernaut", description = "Kubernaut's REST API: releases, deployments, tokens and the audit log."),
    paths(
        handlers::health::healthz,
        handlers::health::readyz,
        handlers::health::metrics,
        openapi_json,
        handlers::releases::list,
        handlers::releases::create,
        handlers::releases::get,
        handlers::releases::delete,
        handlers::deployments::list,
        handlers::deployments::create,
        handlers::deployments::get,
        handlers::deployments::delete,
        handlers::deployments::cancel,
        handlers::notifications::deliveries,
        handlers::notifications::webhooks,
        handlers::services::list,
        handlers::services::get,
        handlers::services::live,
        handlers::contexts::list,
        handlers::tokens::list,
        handlers::tokens::create,
        handlers::tokens::get,
        handlers::tokens::revoke,
        handlers::tokens::whoami,
        handlers::audit::list,
        handlers::audit::verify,
    ),
    modifiers(&BearerToken)
)]
pub(crate) struct ApiDoc;

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// `GET /api/openapi.json`: this document; no token needed.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the API", body = Object)))]
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}
