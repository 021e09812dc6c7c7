use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_domain::{Namespace, ServiceName};
use kubernaut_store::ServiceFilter;

use crate::AppState;
use crate::error::ApiError;
use crate::handlers::{not_found, parse_id};
use crate::query::ListQuery;
use crate::wire;

/// `GET /api/services`: services, newest first, filtered by name and namespace.
pub(crate) async fn list(
    state: Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &["name", "namespace"])?;
    let filter = ServiceFilter {
        name: query.filter("name", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
    };
    let store = state.store.clone();
    let page = web::block(move || store.services(&filter, query.page)).await??;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::service)))
}

/// `GET /api/services/{id}`: the service with its latest release.
pub(crate) async fn get(
    state: Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let service_id = parse_id("service", &id)?;
    let store = state.store.clone();
    match web::block(move || store.service(service_id)).await?? {
        Some(detail) => Ok(HttpResponse::Ok().json(wire::service_detail(detail))),
        None => Err(not_found("service", &id)),
    }
}
