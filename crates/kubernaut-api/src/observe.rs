//! What every response goes through: its request id (the client's `X-Request-Id` if sane, else
//! a new one) on the response and in the log line, the request's metrics under its route
//! pattern, and one log line, with the detail of an internal error.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage};
use uuid::Uuid;

use crate::AppState;

/// The header that names a request.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in its extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

/// The detail of an internal error, for the log line of its request (never for the client).
#[derive(Debug, Clone)]
pub(crate) struct InternalDetail(pub String);

/// The client's `X-Request-Id` if it is sane (1..=128 of `[A-Za-z0-9._:-]`), else a new one.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
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

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(kubernaut_api::observe))`.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    // The chosen id, for front ends that read the header (the web UI's audit events).
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, value);
    }
    let metrics = req
        .app_data::<Data<AppState>>()
        .map(|state| state.app.metrics());
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |addr| addr.ip().to_string());
    let mut response = next.call(req).await?;
    let took = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if let Some(metrics) = metrics {
        metrics.http_request(&method, &route, status, took);
    }
    let millis = took.as_secs_f64() * 1000.0;
    let detail = response
        .response()
        .extensions()
        .get::<InternalDetail>()
        .map(|detail| detail.0.clone());
    match detail {
        Some(detail) => log::error!(
            target: "kubernaut::http",
            request_id = id.as_str(), peer = peer.as_str(), status = status;
            "{method} {path} {status} {millis:.1}ms: internal error: {detail}"
        ),
        None => log::info!(
            target: "kubernaut::http",
            request_id = id.as_str(), peer = peer.as_str(), status = status;
            "{method} {path} {status} {millis:.1}ms"
        ),
    }
    Ok(response)
}
