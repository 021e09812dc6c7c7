//! Tokens (global admins only): the list, creating one (its secret shown once), revoking.

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::{CreatedToken, TokenFilter};
use kubernaut_domain::{ExpiresInDays, Grant, Grants, Token, TokenName};
use maud::{Markup, html};

use crate::WebState;
use crate::error::WebError;
use crate::input::{Params, path_id};
use crate::layout::{self, Nav};
use crate::session::{Session, see_other};

/// `GET /tokens?revoked=&offset=`.
pub(crate) async fn list(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = Params::query(&req)?;
    let revoked = match params.get("revoked") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(WebError::bad_request(format!(
                "revoked must be true or false, got {other:?}"
            )));
        }
    };
    let filter = TokenFilter {
        name: None,
        revoked,
    };
    let paged = state
        .app
        .tokens(&session.caller, filter, params.page()?)
        .await?;
    let body = html! {
        h2 { "Create a token" }
        (create_form(&session))
        h2 { "Tokens" }
        (table(&session, &paged.items))
        (layout::pager(&paged, "/tokens", &params.kept(&["revoked"])))
    };
    Ok(layout::page(&session, Nav::Tokens, "Tokens", body))
}

fn create_form(session: &Session) -> Markup {
    html! {
        form.login method="post" action="/tokens" {
            (layout::csrf_field(session))
            label for="token-name" { "Name" }
            input #token-name name="name" required pattern="[a-z0-9][a-z0-9._-]{0,62}" placeholder="ci-hello-world";
            label for="grants" { "Grants, one per line: role:namespace[:context]" }
            textarea #grants name="grants" rows="3" required placeholder="deployer:default:staging-*" {}
            p.hint { "Roles: viewer, releaser, deployer, admin. Namespace and context: a name, a prefix ending in *, or *." }
            label for="expires" { "Expires in days" }
            input #expires name="expires_in_days" type="number" min="1" max="3650" value="90";
            button.primary type="submit" { "Create token" }
        }
    }
}

fn table(session: &Session, tokens: &[Token]) -> Markup {
    html! {
        table.stack {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Grants" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "State" } } }
            tbody {
                @for token in tokens {
                    tr {
                        th scope="row" data-label="Name" { (token.name) }
                        td data-label="Grants" {
                            @for grant in token.grants.iter() {
                                code { (grant.role) ":" (grant.namespace) ":" (grant.context) } " "
                            }
                        }
                        td data-label="Created" { (layout::time(token.created_on)) " by " (token.created_by) }
                        td data-label="Expires" { @match token.expires_on { Some(at) => (layout::time(at)), None => "never" } }
                        td data-label="Last used" { @match token.last_used_on { Some(at) => (layout::ago(at)), None => (layout::none()) } }
                        td data-label="State" {
                            @match token.revoked_on {
                                Some(at) => { "revoked " (layout::time(at)) }
                                None => form.inline-form method="post" action={ "/tokens/" (token.id) "/revoke" } {
                                    (layout::csrf_field(session))
                                    button.danger type="submit" aria-label={ "Revoke " (token.name) } { "Revoke" }
                                },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /tokens` (`name`, `grants`, `expires_in_days`): creates a token and shows its secret
/// once.
pub(crate) async fn create(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = session.form(&req, &state, &body).await?;
    let name = TokenName::parse(params.required("name", "a name")?)?;
    let grants = params
        .required("grants", "at least one grant")?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, ':');
            let role = parts.next().unwrap_or_default();
            let namespace = parts.next().ok_or_else(|| {
                WebError::bad_request(format!(
                    "the grant {line:?} must be role:namespace or role:namespace:context"
                ))
            })?;
            Ok(Grant::parse(role, namespace, parts.next())?)
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let grants = Grants::new(grants)?;
    let days = match params.get("expires_in_days") {
        None => ExpiresInDays::DEFAULT,
        Some(days) => ExpiresInDays::new(days.parse().map_err(|_| {
            WebError::bad_request(format!("expires in days must be a number, got {days:?}"))
        })?)?,
    };
    let CreatedToken { token, secret } = state
        .app
        .create_token(&session.caller, name, grants, days)
        .await?;
    let body = html! {
        div.notice.ok role="status" {
            p { "Token " strong { (token.name) } " was created. Copy its secret now: it is shown this once and never again." }
        }
        label for="secret" { "Secret" }
        input #secret.secret type="text" readonly value=(secret);
        p { a href="/tokens" { "Back to the tokens" } }
    };
    let mut response = layout::page(&session, Nav::Tokens, "Token created", body);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `POST /tokens/{id}/revoke`.
pub(crate) async fn revoke(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    session.form(&req, &state, &body).await?;
    let id = path_id(&req, "token")?;
    state.app.revoke_token(&session.caller, id).await?;
    Ok(see_other("/tokens"))
}
