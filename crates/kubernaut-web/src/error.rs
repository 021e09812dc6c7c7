//! Why a page could not be shown, and the page that says so: the one place that maps an
//! operation's [`AppError`] to a status and an HTML page (a 401 is the login page).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use kubernaut_app::AppError;
use kubernaut_domain::ValidationError;
use maud::html;

use crate::layout;
use crate::session;

/// A failed page or form: the operation's error, and for a 401 the page to come back to after
/// logging in.
#[derive(Debug)]
pub(crate) struct WebError {
    error: AppError,
    next: Option<String>,
    secure: bool,
}

impl WebError {
    /// A 400 naming the problem.
    pub(crate) fn bad_request(message: String) -> Self {
        AppError::Invalid(message).into()
    }

    /// A 404 naming what does not exist.
    pub(crate) fn not_found(message: String) -> Self {
        AppError::NotFound(message).into()
    }

    /// Not logged in: the login page, which leads back to `next` (its cookie `Secure` when
    /// the request came over HTTPS).
    pub(crate) fn log_in(message: String, next: String, secure: bool) -> Self {
        Self {
            error: AppError::Unauthenticated(message),
            next: Some(next),
            secure,
        }
    }
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        Self {
            error,
            next: None,
            secure: false,
        }
    }
}

impl From<ValidationError> for WebError {
    fn from(error: ValidationError) -> Self {
        AppError::from(error).into()
    }
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match &self.error {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message, advice) = match &self.error {
            AppError::Unauthenticated(message) => {
                return session::login_form(
                    status,
                    Some(message),
                    self.next.as_deref(),
                    self.secure,
                );
            }
            AppError::Invalid(message) => (
                "This request cannot be done",
                message.clone(),
                "Go back, correct it and try again.",
            ),
            AppError::Forbidden(message) => (
                "Not allowed",
                message.clone(),
                "Your token's grants do not allow this; the refusal was recorded in the audit log. \
                 Ask an admin for a token with the grant it names.",
            ),
            AppError::NotFound(message) => (
                "Not found",
                message.clone(),
                "It may have been deleted, or your token may not read its namespace.",
            ),
            AppError::Conflict(message) => (
                "This conflicts with what is there",
                message.clone(),
                "Reload the page to see the current state.",
            ),
            AppError::Throttled(_) => (
                "Too many attempts",
                self.error.to_string(),
                "Wait, then try again.",
            ),
            AppError::Unavailable(message) => (
                "A service kubernaut needs is unavailable",
                message.clone(),
                "This is usually temporary: try again in a moment.",
            ),
            AppError::Internal(detail) => {
                log::error!(target: "kubernaut::web", "internal error: {detail}");
                (
                    "Something went wrong on the server",
                    "The server could not complete this request.".to_owned(),
                    "The detail is in the server's log; try again, and tell the kubernaut \
                     operators if it keeps happening.",
                )
            }
        };
        let body = html! {
            div.notice.error role="alert" {
                p { (message) }
            }
            p { (advice) }
            p { a href="/" { "Back to what runs where" } }
        };
        layout::bare(status, &format!("{} {title}", status.as_u16()), body)
    }
}

/// The page of a path no route serves.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    WebError::not_found(format!("there is no page at {}", req.path())).error_response()
}
