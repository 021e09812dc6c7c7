use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::ServiceFilter;
use kubernaut_domain::{ContextName, Namespace, ServiceName, ValidationError};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::query::{ListQuery, parameters};
use crate::wire;
use kubernaut_wire::{ErrorBody, LiveBody, PageBody, ServiceBody, ServiceDetailBody};

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

/// `GET /api/services/{id}/live?context=NAME`: the service's objects in the context as the
/// cluster has them now, each with its health.
#[utoipa::path(get, path = "/api/services/{id}/live", tag = "services",
    params(
        ("id" = String, Path, description = "The service id"),
        ("context" = String, Query, description = "The context to read")
    ),
    responses(
        (status = 200, description = "The members of the service's ApplySet with their health", body = LiveBody),
        (status = 400, description = "Missing or unknown context, or an invalid query parameter", body = ErrorBody),
        (status = 404, description = "Unknown, malformed, or not readable by the token", body = ErrorBody),
        (status = 409, description = "The service's ApplySet parent in the cluster is not kubernaut's", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn live(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("service", &id)?;
    let mut query = parameters(
        req.query_string(),
        &["context"],
        "this endpoint accepts context",
    )?;
    let context = ContextName::parse(
        &query
            .remove("context")
            .ok_or(ValidationError::Missing { field: "context" })?,
    )?;
    let objects = state.app.live_objects(&caller, id, &context).await?;
    Ok(HttpResponse::Ok().json(wire::live(context.as_str(), objects)))
}
