//! The caller of an `/api` request: its bearer token authenticated by the shared operations.
//! Every `/api` handler takes an [`Authenticated`], and every operation needs its caller, so a
//! handler cannot reach data without a valid token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use kubernaut_app::Caller;
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;

/// The header a client may name its request with; its value is recorded in audit events.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<AppState>>().cloned();
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().map(str::to_owned));
        let remote_addr = req.peer_addr().map(|addr| addr.ip().to_string());
        let request_id = request_id(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no app state".to_owned()))?;
            let authorization = match authorization {
                None => None,
                Some(Ok(value)) => Some(value),
                // Not visible ASCII: passed on as such, so that it counts as a failure.
                Some(Err(_)) => Some(String::from("\u{0}")),
            };
            let caller = state
                .app
                .authenticate(authorization.as_deref(), remote_addr, Some(request_id))
                .await?;
            Ok(Authenticated(caller))
        })
    }
}

/// The client's `X-Request-Id` if it is sane (1..=128 of `[A-Za-z0-9._:-]`), else a new one.
fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        })
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned)
}
