//! Logging in and out, the session of a request, and CSRF.
//!
//! Logging in trades a token for a session (`kubernaut-app`): the browser keeps the session's
//! secret in the `kubernaut_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
//! HTTPS, expiring with the session). Every form of a session carries a CSRF token derived from
//! that secret (SHA-256), which a page script cannot read; a POST whose token does not match, or
//! whose `Origin` is another site, is refused with a 403 that the audit log records. The login
//! form itself is protected by a double-submit cookie.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::time::OffsetDateTime;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kubernaut_app::{AppError, Caller};
use maud::html;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::WebState;
use crate::error::WebError;
use crate::input::Params;
use crate::layout;

/// The cookie that holds the session's secret.
const SESSION_COOKIE: &str = "kubernaut_session";

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "kubernaut_login";

/// The session of a request: who, and the CSRF token of its forms.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The caller every operation of the request runs as.
    pub(crate) caller: Caller,
    csrf: String,
    secret: String,
}

impl Session {
    /// The CSRF token the session's forms carry.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Reads a POSTed form and checks that it came from this session's pages: its CSRF token
    /// and, when the browser sends one, its `Origin`. A refusal is a 403 in the audit log.
    pub(crate) async fn form(
        &self,
        req: &HttpRequest,
        state: &WebState,
        body: &Bytes,
    ) -> Result<Params, WebError> {
        let params = Params::form(body)?;
        let token_ok = params
            .get("csrf")
            .is_some_and(|sent| same(sent.as_bytes(), self.csrf.as_bytes()));
        let problem = if !same_origin(req) {
            Some("the form was sent from another site (its Origin is not this server)")
        } else if !token_ok {
            Some("the form's CSRF token is missing or wrong: reload the page and try again")
        } else {
            None
        };
        match problem {
            None => Ok(params),
            Some(problem) => {
                let message = format!("{} {}: {problem}", req.method(), req.path());
                Err(state.app.refuse(&self.caller, message).await.into())
            }
        }
    }
}

impl FromRequest for Session {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<WebState>>().cloned();
        let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let (remote_addr, request_id) = origin_of(req);
        let secure = https(req);
        let next = if req.method() == actix_web::http::Method::GET {
            req.uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
        } else {
            "/".to_owned()
        };
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal("no web state".to_owned()))?;
            let Some(secret) = secret else {
                return Err(WebError::log_in(
                    "Log in with a token to continue.".to_owned(),
                    next,
                    secure,
                ));
            };
            let caller = state
                .app
                .session(&secret, remote_addr, request_id)
                .await
                .map_err(|error| match error {
                    AppError::Unauthenticated(message) => {
                        WebError::log_in(message, next.clone(), secure)
                    }
                    other => other.into(),
                })?;
            Ok(Session {
                caller,
                csrf: csrf_of(&secret),
                secret,
            })
        })
    }
}

/// The peer address and the request id (which the server's middleware sets), for the audit log.
fn origin_of(req: &HttpRequest) -> (Option<String>, Option<String>) {
    let remote_addr = req.peer_addr().map(|addr| addr.ip().to_string());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (remote_addr, request_id)
}

/// The CSRF token of a session: derived from its secret, so nothing more is stored.
fn csrf_of(secret: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"kubernaut csrf\n")
        .chain_update(secret.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in constant time.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request's `Origin`, if the browser sent one, is this server.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let info = req.connection_info();
    let expected = format!("{}://{}", info.scheme(), info.host());
    origin.to_str().is_ok_and(|origin| origin == expected)
}

/// Whether the browser reached the server over HTTPS (directly or through a proxy that says
/// so), which makes the cookies `Secure`.
fn https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// A local path to return to after logging in; anything else goes home. Only visible ASCII
/// without backslashes, starting with one `/`: browsers drop tabs and newlines from a location
/// and read `\\` as `/`, which could turn a path into another site's address.
fn local(next: Option<&str>) -> &str {
    next.filter(|n| {
        n.starts_with('/')
            && !n[1..].starts_with('/')
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
    .unwrap_or("/")
}

/// The login page with `status` and `message`, and a new double-submit cookie.
pub(crate) fn login_form(
    status: StatusCode,
    message: Option<&str>,
    next: Option<&str>,
    secure: bool,
) -> HttpResponse {
    let nonce = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let body = html! {
        @if let Some(message) = message {
            div.notice.error role="alert" { p { (message) } }
        }
        form.login method="post" action="/login" {
            input type="hidden" name="csrf" value=(nonce);
            input type="hidden" name="next" value=(local(next));
            label for="token" { "Token" }
            input #token type="password" name="token" required autocomplete="current-password"
                spellcheck="false" placeholder="knt_…" autofocus;
            p.hint { "The secret of a kubernaut API token (it starts with knt_). On a new server, \
                      the first admin token is printed once in the server's log." }
            button type="submit" { "Log in" }
        }
    };
    let mut response = layout::bare(status, "Log in", body);
    let _ = response.add_cookie(&cookie(LOGIN_COOKIE, nonce, secure));
    if status == StatusCode::UNAUTHORIZED {
        // A session that ended: the browser need not keep sending it.
        let _ = response.add_removal_cookie(&cookie(SESSION_COOKIE, String::new(), secure));
    }
    response
}

/// `GET /login`: the login form, or home when the session is valid.
pub(crate) async fn login_page(req: HttpRequest, state: Data<WebState>) -> HttpResponse {
    let params = Params::query(&req).unwrap_or_default();
    if let Some(secret) = req.cookie(SESSION_COOKIE) {
        let (remote_addr, request_id) = origin_of(&req);
        if state
            .app
            .session(secret.value(), remote_addr, request_id)
            .await
            .is_ok()
        {
            return see_other(local(params.get("next")));
        }
    }
    let message = params
        .get("logged_out")
        .map(|_| "You logged out. Log in again with a token.");
    login_form(StatusCode::OK, message, params.get("next"), https(&req))
}

/// `POST /login`: a token for a session cookie.
pub(crate) async fn log_in(req: HttpRequest, body: Bytes, state: Data<WebState>) -> HttpResponse {
    let secure = https(&req);
    let params = match Params::form(&body) {
        Ok(params) => params,
        Err(error) => return actix_web::ResponseError::error_response(&error),
    };
    let next = params.get("next");
    let nonce_ok = match (params.get("csrf"), req.cookie(LOGIN_COOKIE)) {
        (Some(sent), Some(cookie)) => same(sent.as_bytes(), cookie.value().as_bytes()),
        _ => false,
    };
    if !nonce_ok || !same_origin(&req) {
        return login_form(
            StatusCode::FORBIDDEN,
            Some("The login form expired or came from another site; log in again."),
            next,
            secure,
        );
    }
    let (remote_addr, request_id) = origin_of(&req);
    let token = params.get("token").unwrap_or_default();
    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    match state.app.log_in(token, remote_addr, request_id).await {
        Ok(session) => {
            if let Some(previous) = previous {
                state.app.log_out(&previous).await.ok();
            }
            let mut response = see_other(local(next));
            let mut cookie = cookie(SESSION_COOKIE, session.secret, secure);
            cookie.set_expires(expiry(session.expires_on));
            let _ = response.add_cookie(&cookie);
            let _ = response.add_removal_cookie(&self::cookie(LOGIN_COOKIE, String::new(), secure));
            response
        }
        Err(AppError::Unauthenticated(message)) => {
            login_form(StatusCode::UNAUTHORIZED, Some(&message), next, secure)
        }
        Err(AppError::Throttled(seconds)) => login_form(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed logins from this address; try again in {seconds} s."
            )),
            next,
            secure,
        ),
        Err(other) => actix_web::ResponseError::error_response(&WebError::from(other)),
    }
}

/// `POST /logout`: ends the session, here and on the server.
pub(crate) async fn log_out(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    session.form(&req, &state, &body).await?;
    state.app.log_out(&session.secret).await?;
    let mut response = see_other("/login?logged_out=1");
    let _ = response.add_removal_cookie(&cookie(SESSION_COOKIE, String::new(), https(&req)));
    Ok(response)
}

fn expiry(at: DateTime<Utc>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A redirect after a form: the browser GETs `location`.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_differ_per_session_and_never_hold_the_secret() {
        let a = csrf_of("kns_a");
        assert_eq!(a.len(), 64);
        assert_ne!(a, csrf_of("kns_b"));
        assert_eq!(a, csrf_of("kns_a"));
        assert!(!a.contains("kns_a"));
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            local(Some("/deployments?status=failed")),
            "/deployments?status=failed"
        );
        for foreign in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "/ok\r\nSet-Cookie: x=y",
            "/ /evil.example",
            "x",
        ] {
            assert_eq!(local(Some(foreign)), "/", "{foreign}");
        }
        assert_eq!(local(None), "/");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
