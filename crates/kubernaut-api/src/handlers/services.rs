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

/// `GET /api/services`: services, newest first, filtered by name and namespace.
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
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("service", &id)?;
    let detail = state.app.service(&caller, id).await?;
    Ok(HttpResponse::Ok().json(wire::service_detail(detail)))
}
