//! The caller of an `/api` request: its bearer token authenticated by the shared operations.
//! Every `/api` handler takes an [`Authenticated`], and every operation needs its caller, so a
//! handler cannot reach data without a valid token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use kubernaut_app::Caller;

use crate::AppState;
use crate::error::ApiError;
use crate::observe::{RequestId, request_id};

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
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map_or_else(|| request_id(req.headers()), |id| id.0.clone());
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
