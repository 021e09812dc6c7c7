use actix_web::http::header;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_domain::{Namespace, NewRelease, ServiceName, Version};
use kubernaut_store::{Outcome, ReleaseFilter};

use crate::AppState;
use crate::body;
use crate::error::ApiError;
use crate::handlers::{not_found, parse_id};
use crate::query::ListQuery;
use crate::wire;

/// Validates the template against the release's own context, then stores the release.
fn create_release(
    state: &AppState,
    new: &NewRelease,
) -> Result<Outcome<kubernaut_domain::ReleaseDetail>, ApiError> {
    state
        .templates
        .get(&new.template)?
        .render(&new.render_context(), new.namespace.as_str())?;
    Ok(state.store.create_release(new)?)
}

/// `POST /api/releases`: 201 for a new release, 200 for a repeat of an existing one.
pub(crate) async fn create(
    state: Data<AppState>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let new = body::new_release(&req, payload, state.body_limit).await?;
    let shared = state.clone();
    let outcome = web::block(move || create_release(&shared, &new)).await??;
    Ok(match outcome {
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
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &["service", "namespace", "version"])?;
    let filter = ReleaseFilter {
        service: query.filter("service", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
        version: query.filter("version", Version::parse)?,
    };
    let store = state.store.clone();
    let page = web::block(move || store.releases(&filter, query.page)).await??;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::release_summary)))
}

/// `GET /api/releases/{id}`: the release with its template source.
pub(crate) async fn get(
    state: Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let release_id = parse_id("release", &id)?;
    let store = state.store.clone();
    match web::block(move || store.release(release_id)).await?? {
        Some(detail) => Ok(HttpResponse::Ok().json(wire::release_detail(detail))),
        None => Err(not_found("release", &id)),
    }
}

/// `DELETE /api/releases/{id}`: soft delete; 204 also when already deleted.
pub(crate) async fn delete(
    state: Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let release_id = parse_id("release", &id)?;
    let store = state.store.clone();
    let by = kubernaut_domain::ANONYMOUS;
    if web::block(move || store.delete_release(release_id, by)).await?? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found("release", &id))
    }
}
