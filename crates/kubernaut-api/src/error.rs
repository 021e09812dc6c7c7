//! The one place where errors become HTTP statuses.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use kubernaut_domain::ValidationError;
use kubernaut_store::StoreError;

use crate::deploy::DeployError;
use kubernaut_template::TemplateError;
use kubernaut_wire::ErrorBody;
use thiserror::Error;

/// An error as a client sees it: a status and one sentence.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 400: invalid input.
    #[error("{0}")]
    BadRequest(String),
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
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            log::error!("internal error: {detail}");
        }
        let mut response = HttpResponse::build(self.status_code()).json(ErrorBody {
            message: self.to_string(),
        });
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<TemplateError> for ApiError {
    fn from(error: TemplateError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<DeployError> for ApiError {
    fn from(error: DeployError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::NotFound(message) => ApiError::NotFound(message),
            StoreError::Unavailable(_) | StoreError::Connect { .. } => {
                ApiError::Unavailable(error.to_string())
            }
            StoreError::InvalidUrl { .. }
            | StoreError::Migration { .. }
            | StoreError::Corrupt(_)
            | StoreError::Database(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(error.to_string())
    }
}
