use actix_web::HttpResponse;
use actix_web::web::{self, Data};
use kubernaut_wire::{DeliveriesBody, ErrorBody, WebhooksBody};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::openapi::Refusals;
use crate::wire;

/// `GET /api/webhooks`: the configured webhooks, without secrets.
#[utoipa::path(get, path = "/api/webhooks", tag = "notifications",
    responses(
        (status = 200, description = "The configured webhooks: no secret, no URL path, no header values", body = WebhooksBody),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn webhooks(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let items = state.app.list_webhooks(&caller).await?;
    Ok(HttpResponse::Ok().json(WebhooksBody {
        count: items.len(),
        items,
    }))
}

/// `GET /api/deployments/{id}/notifications`: the deployment's deliveries, oldest first.
#[utoipa::path(get, path = "/api/deployments/{id}/notifications", tag = "notifications",
    params(("id" = String, Path, description = "The deployment id")),
    responses(
        (status = 200, description = "The deployment's deliveries with their attempts, oldest first", body = DeliveriesBody),
        (status = 404, description = "Unknown, malformed, deleted, or not readable by the token", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn deliveries(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("deployment", &id)?;
    let deliveries = state.app.deliveries(&caller, id).await?;
    let items: Vec<_> = deliveries.into_iter().map(wire::delivery).collect();
    Ok(HttpResponse::Ok().json(DeliveriesBody {
        count: items.len(),
        items,
    }))
}
