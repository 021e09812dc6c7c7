use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::ServiceFilter;
use kubernaut_domain::{Namespace, ServiceName};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::query::ListQuery;
use crate::wire;
use kubernaut_wire::{ErrorBody, PageBody, ServiceBody, ServiceDetailBody};

use crate::openapi::{Paging, Refusals, ServiceFilters};

/// `GET /api/services`: services, newest first, filtered by name and namespace.
#[utoipa::path(get, path = "/api/services", tag = "services",
    params(Paging, ServiceFilters),
    responses(
        (status = 200, description = "Services the token may read, newest first", body = PageBody<ServiceBody>),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &["name", "namespace"])?;
    let filter = ServiceFilter {
        name: query.filter("name", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
    };
    let page = state.app.services(&caller, filter, query.page).await?;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::service)))
}

/// `GET /api/services/{id}`: the service with its latest release and deployments.
#[utoipa::path(get, path = "/api/services/{id}", tag = "services",
    params(("id" = String, Path, description = "The service id")),
    responses(
        (status = 200, description = "The service, its latest release and its latest deployment per context", body = ServiceDetailBody),
        (status = 404, description = "Unknown, malformed, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("service", &id)?;
    let detail = state.app.service(&caller, id).await?;
    Ok(HttpResponse::Ok().json(wire::service_detail(detail)))
}
