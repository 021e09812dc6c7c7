use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::web::Data;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process serves.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
pub(crate) async fn readyz(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.app.ping(READY_TIMEOUT).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
