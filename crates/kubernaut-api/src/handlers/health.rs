use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use kubernaut_wire::ErrorBody;

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process serves.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process serves", body = Object)))]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Object),
        (status = 503, description = "The database is unavailable; with Retry-After", body = ErrorBody)
    ))]
pub(crate) async fn readyz(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.app.ping(READY_TIMEOUT).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// `GET /metrics`: Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus metrics", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
        (status = 503, description = "The database is unavailable; with Retry-After", body = ErrorBody)
    ))]
pub(crate) async fn metrics(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.app.metrics_text().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
