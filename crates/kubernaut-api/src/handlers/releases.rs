use actix_web::http::header;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::{Outcome, ReleaseFilter};
use kubernaut_domain::{Namespace, ServiceName, Version};

use crate::AppState;
use crate::auth::Authenticated;
use crate::body;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::query::ListQuery;
use crate::wire;
use kubernaut_wire::{CreateRelease, ErrorBody, PageBody, ReleaseBody};

use crate::openapi::{Paging, Refusals, ReleaseFilters};

/// `POST /api/releases`: 201 for a new release, 200 for a repeat of an existing one.
#[utoipa::path(post, path = "/api/releases", tag = "releases",
    description = "Creates a release. Also accepts multipart/form-data: service, namespace, version, a template part, every other field an attribute.",
    request_body = CreateRelease,
    responses(
        (status = 201, description = "A new release; Location names it", body = ReleaseBody, headers(("Location" = String, description = "/api/releases/{id}"))),
        (status = 200, description = "The identical release already stored", body = ReleaseBody),
        (status = 400, description = "Invalid field or template", body = ErrorBody),
        (status = 403, description = "No grant allows creating releases in the namespace", body = ErrorBody),
        (status = 409, description = "The version exists with another template or attributes", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 415, description = "Content-Type is neither JSON nor multipart", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let new = body::new_release(&req, payload, state.body_limit, caller.name()).await?;
    let stored = state.app.create_release(&caller, new).await?;
    let with_warnings = |detail| ReleaseBody {
        warnings: stored.warnings.clone(),
        ..wire::release_detail(detail)
    };
    Ok(match stored.outcome {
        Outcome::Created(detail) => {
            let location = format!("/api/releases/{}", detail.release.id);
            HttpResponse::Created()
                .insert_header((header::LOCATION, location))
                .json(with_warnings(detail))
        }
        Outcome::Existing(detail) => HttpResponse::Ok().json(with_warnings(detail)),
    })
}

/// `GET /api/releases`: active releases, newest first, filtered by service, namespace, version.
#[utoipa::path(get, path = "/api/releases", tag = "releases",
    params(Paging, ReleaseFilters),
    responses(
        (status = 200, description = "Active releases the token may read, newest first, without template sources", body = PageBody<ReleaseBody>),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &["service", "namespace", "version"])?;
    let filter = ReleaseFilter {
        service: query.filter("service", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
        version: query.filter("version", Version::parse)?,
    };
    let page = state.app.releases(&caller, filter, query.page).await?;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::release_summary)))
}

/// `GET /api/releases/{id}`: the release with its template source.
#[utoipa::path(get, path = "/api/releases/{id}", tag = "releases",
    params(("id" = String, Path, description = "The release id")),
    responses(
        (status = 200, description = "The release with its template source", body = ReleaseBody),
        (status = 404, description = "Unknown, malformed, deleted, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("release", &id)?;
    let detail = state.app.release(&caller, id).await?;
    Ok(HttpResponse::Ok().json(wire::release_detail(detail)))
}

/// `DELETE /api/releases/{id}`: soft delete; 204 also when already deleted.
#[utoipa::path(delete, path = "/api/releases/{id}", tag = "releases",
    params(("id" = String, Path, description = "The release id")),
    responses(
        (status = 204, description = "Deleted (also when deleted before)"),
        (status = 403, description = "No grant allows deleting releases in the namespace", body = ErrorBody),
        (status = 404, description = "Unknown, malformed, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("release", &id)?;
    state.app.delete_release(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
