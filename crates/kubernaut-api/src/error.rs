//! The one place where errors become HTTP statuses.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use kubernaut_app::AppError;
use kubernaut_domain::ValidationError;
use kubernaut_wire::ErrorBody;

use crate::observe::InternalDetail;
use thiserror::Error;

/// An error as a client sees it: a status and one sentence.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 400: invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown id, malformed id, deleted entity or unknown route.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: conflict with existing state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: a body in a content type the endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: too many failed authentications; retry after this many seconds.
    #[error("too many failed authentications from this address; try again in {0} s")]
    TooManyRequests(u64),
    /// 503: the database is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a fault of the server; details go to the log, not to the client.
    #[error("internal server error")]
    Internal(String),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(ErrorBody {
            message: self.to_string(),
        });
        if let ApiError::Internal(detail) = self {
            // The `observe` middleware logs it with the request's id.
            response
                .extensions_mut()
                .insert(InternalDetail(detail.clone()));
        }
        let headers = response.headers_mut();
        match self {
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::TooManyRequests(seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="kubernaut""#),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(message) => ApiError::BadRequest(message),
            AppError::Unauthenticated(message) => ApiError::Unauthorized(message),
            AppError::Forbidden(message) => ApiError::Forbidden(message),
            AppError::NotFound(message) => ApiError::NotFound(message),
            AppError::Conflict(message) => ApiError::Conflict(message),
            AppError::Throttled(seconds) => ApiError::TooManyRequests(seconds),
            AppError::Unavailable(message) => ApiError::Unavailable(message),
            AppError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}
