use std::time::Duration;

use actix_web::http::header;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::DeploymentFilter;
use kubernaut_app::{DeploymentRequest, ReleaseLookup};
use kubernaut_domain::{
    ContextName, DeploymentStatus, Namespace, ServiceName, ValidationError, Version,
};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Authenticated;
use crate::body;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::query::{ListQuery, parameters};
use crate::wire;
use kubernaut_wire::{CreateDeployment, DeploymentBody, ErrorBody, PageBody};

use crate::openapi::{DeploymentFilters, Paging, Refusals};

/// The longest `?wait=` accepted, in seconds.
const MAX_WAIT_SECS: u64 = 900;

/// `POST /api/deployments`: renders the release for the context, stores the deployment as
/// pending (202), and with `?wait=N` answers 200 once it ended or N seconds passed.
#[utoipa::path(post, path = "/api/deployments", tag = "deployments",
    params(
        ("wait" = Option<u64>, Query, description = "Seconds (0 to 900) to wait for the deployment to end"),
        ("dryRun" = Option<bool>, Query, description = "true: store and apply nothing; answer what deploying would do")
    ),
    request_body = CreateDeployment,
    responses(
        (status = 202, description = "Stored as pending; Location names it", body = DeploymentBody, headers(("Location" = String))),
        (status = 200, description = "With wait: its state when it ended or the wait passed (a DeploymentBody with a Location header); with dryRun: what deploying would do (a DryRunBody)", body = DeploymentBody),
        (status = 400, description = "Invalid field, unknown context, or a manifest that cannot be applied (with dryRun: also an object the API server refuses)", body = ErrorBody),
        (status = 409, description = "A rollback with nothing to roll back to, or an ApplySet parent that is not kubernaut's", body = ErrorBody),
        (status = 403, description = "No grant allows deploying to the context in the namespace", body = ErrorBody),
        (status = 404, description = "Unknown or deleted release, or not readable by the token", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let (wait, dry_run) = parse_create_query(req.query_string())?;
    let request: CreateDeployment = body::json(&req, payload, state.body_limit).await?;
    let request = deployment_request(request)?;
    if dry_run {
        let report = state.app.dry_run_deployment(&caller, request).await?;
        return Ok(HttpResponse::Ok().json(wire::dry_run(report)));
    }
    let detail = state.app.create_deployment(&caller, request).await?;
    let id = detail.deployment.id;
    let location = format!("/api/deployments/{id}");
    match wait {
        None => Ok(HttpResponse::Accepted()
            .insert_header((header::LOCATION, location))
            .json(DeploymentBody::detail(detail))),
        Some(wait) => {
            let current = state
                .app
                .wait_for_end(&caller, id, wait)
                .await?
                .unwrap_or(detail);
            Ok(HttpResponse::Ok()
                .insert_header((header::LOCATION, location))
                .json(DeploymentBody::detail(current)))
        }
    }
}

/// Validates a deployment request: a context, and either a release id, or service (namespace)
/// and version, or service (namespace) and `rollback: true`.
fn deployment_request(request: CreateDeployment) -> Result<DeploymentRequest, ApiError> {
    let context = ContextName::parse(
        request
            .context
            .as_deref()
            .ok_or(ValidationError::Missing { field: "context" })?,
    )?;
    let namespace = |namespace: Option<String>| match namespace {
        Some(namespace) => Namespace::parse(&namespace),
        None => Ok(Namespace::default()),
    };
    let release = if request.rollback == Some(true) {
        if request.release.is_some() || request.version.is_some() {
            return Err(ApiError::BadRequest(
                "a rollback names service, namespace and context only: the release is the \
                 last good one, so give neither release nor version"
                    .to_owned(),
            ));
        }
        let service = request
            .service
            .ok_or(ValidationError::Missing { field: "service" })?;
        ReleaseLookup::LastGood(ServiceName::parse(&service)?, namespace(request.namespace)?)
    } else {
        let by_version = request.service.is_some() || request.version.is_some();
        match (request.release, by_version) {
            (Some(_), true) => {
                return Err(ApiError::BadRequest(
                    "give either release or service and version, not both".to_owned(),
                ));
            }
            (Some(id), false) => Uuid::parse_str(&id).map(ReleaseLookup::Id).map_err(|_| {
                ApiError::BadRequest(format!("release must be a release id (a UUID), got {id:?}"))
            })?,
            (None, _) => {
                let service = request.service.ok_or(ApiError::BadRequest(
                    "release is required, or service and version, or service and rollback"
                        .to_owned(),
                ))?;
                let version = request
                    .version
                    .ok_or(ValidationError::Missing { field: "version" })?;
                ReleaseLookup::Version(
                    ServiceName::parse(&service)?,
                    namespace(request.namespace)?,
                    Version::parse(&version)?,
                )
            }
        }
    };
    Ok(DeploymentRequest {
        release,
        context,
        auto_rollback: request.auto_rollback == Some(true),
        prune: request.prune != Some(false),
    })
}

/// The query of `POST /api/deployments`: `wait=<seconds>` and `dryRun=true|false`, not both.
fn parse_create_query(query: &str) -> Result<(Option<Duration>, bool), ApiError> {
    let mut parameters = parameters(
        query,
        &["wait", "dryRun"],
        "POST /api/deployments accepts wait and dryRun",
    )?;
    let wait = parameters
        .remove("wait")
        .map(|value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_WAIT_SECS)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "wait must be an integer number of seconds from 0 to {MAX_WAIT_SECS}, \
                         got {value:?}"
                    ))
                })
        })
        .transpose()?;
    let dry_run = match parameters.remove("dryRun").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dryRun must be true or false, got {other:?}"
            )));
        }
    };
    if dry_run && wait.is_some() {
        return Err(ApiError::BadRequest(
            "a dry run stores nothing to wait for: give dryRun or wait, not both".to_owned(),
        ));
    }
    Ok((wait, dry_run))
}

/// `GET /api/deployments`: newest first, filtered by service, namespace, version, context,
/// status and release.
#[utoipa::path(get, path = "/api/deployments", tag = "deployments",
    params(Paging, DeploymentFilters),
    responses(
        (status = 200, description = "Deployments the token may read, newest first, without manifests and logs", body = PageBody<DeploymentBody>),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(
        req.query_string(),
        &[
            "service",
            "namespace",
            "version",
            "context",
            "status",
            "release",
        ],
    )?;
    let filter = DeploymentFilter {
        service: query.filter("service", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
        version: query.filter("version", Version::parse)?,
        context: query.filter("context", ContextName::parse)?,
        status: query.filter("status", DeploymentStatus::parse)?,
        release: query.filter("release", |raw| {
            Uuid::parse_str(raw).map_err(|_| {
                ApiError::BadRequest(format!(
                    "release must be a release id (a UUID), got {raw:?}"
                ))
            })
        })?,
    };
    let page = state.app.deployments(&caller, filter, query.page).await?;
    Ok(HttpResponse::Ok().json(wire::page(page, DeploymentBody::summary)))
}

/// `GET /api/deployments/{id}`: the deployment with its manifest and log.
#[utoipa::path(get, path = "/api/deployments/{id}", tag = "deployments",
    params(("id" = String, Path, description = "The deployment id")),
    responses(
        (status = 200, description = "The deployment with its manifest and log", body = DeploymentBody),
        (status = 404, description = "Unknown, malformed, deleted, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("deployment", &id)?;
    let detail = state.app.deployment(&caller, id).await?;
    Ok(HttpResponse::Ok().json(DeploymentBody::detail(detail)))
}

/// `DELETE /api/deployments/{id}`: hides the record (nothing is removed from the cluster); 204
/// also when already deleted.
#[utoipa::path(delete, path = "/api/deployments/{id}", tag = "deployments",
    params(("id" = String, Path, description = "The deployment id")),
    responses(
        (status = 204, description = "Hidden (also when deleted before); nothing is removed from the cluster"),
        (status = 403, description = "No grant allows deleting deployments of the context in the namespace", body = ErrorBody),
        (status = 404, description = "Unknown, malformed, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("deployment", &id)?;
    state.app.delete_deployment(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/deployments/{id}/cancel`: 202 with the deployment (canceled if it was pending,
/// else stopping before its next step); 409 when it already ended.
#[utoipa::path(post, path = "/api/deployments/{id}/cancel", tag = "deployments",
    params(("id" = String, Path, description = "The deployment id")),
    responses(
        (status = 202, description = "Canceled, or its worker stops it before the next object or rollout check", body = DeploymentBody),
        (status = 403, description = "No grant allows canceling deployments of the context in the namespace", body = ErrorBody),
        (status = 404, description = "Unknown, malformed, deleted, or not readable by the token", body = ErrorBody),
        (status = 409, description = "The deployment already ended", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn cancel(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("deployment", &id)?;
    let detail = state.app.cancel_deployment(&caller, id).await?;
    Ok(HttpResponse::Accepted().json(DeploymentBody::detail(detail)))
}
