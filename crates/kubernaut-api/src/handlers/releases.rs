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

/// `POST /api/releases`: 201 for a new release, 200 for a repeat of an existing one.
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let new = body::new_release(&req, payload, state.body_limit, caller.name()).await?;
    Ok(match state.app.create_release(&caller, new).await? {
        Outcome::Created(detail) => {
            let location = format!("/api/releases/{}", detail.release.id);
            HttpResponse::Created()
                .insert_header((header::LOCATION, location))
                .json(wire::release_detail(detail))
        }
        Outcome::Existing(detail) => HttpResponse::Ok().json(wire::release_detail(detail)),
    })
}

/// `GET /api/releases`: active releases, newest first, filtered by service, namespace, version.
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
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("release", &id)?;
    state.app.delete_release(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
