use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_domain::Paged;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::query::ListQuery;
use crate::wire;
use kubernaut_wire::{ContextBody, ErrorBody, PageBody};

use crate::openapi::{Paging, Refusals};

/// `GET /api/contexts`: the contexts deployments can target, sorted by name, paginated like
/// every list (a server has a handful, kept in memory).
#[utoipa::path(get, path = "/api/contexts", tag = "contexts",
    params(Paging),
    responses(
        (status = 200, description = "The contexts deployments can target, by name", body = PageBody<ContextBody>),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &[])?;
    let contexts = state.app.list_contexts(&caller);
    let count = contexts.len() as u64;
    let items = contexts
        .into_iter()
        .skip(usize::try_from(query.page.offset()).unwrap_or(usize::MAX))
        .take(query.page.limit() as usize)
        .collect();
    let page = Paged {
        items,
        count,
        limit: query.page.limit(),
        offset: query.page.offset(),
    };
    Ok(HttpResponse::Ok().json(wire::page(page, wire::context)))
}
