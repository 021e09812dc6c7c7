use actix_web::http::header;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::TokenFilter;
use kubernaut_domain::{ExpiresInDays, Grant, Grants, TokenName, ValidationError};
use kubernaut_wire::CreateToken;

use crate::AppState;
use crate::auth::Authenticated;
use crate::body;
use crate::error::ApiError;
use crate::handlers::parse_id;
use crate::query::ListQuery;
use crate::wire;
use kubernaut_wire::{ErrorBody, PageBody, TokenBody, WhoamiBody};

use crate::openapi::{Paging, Refusals, TokenFilters};

/// `POST /api/tokens`: 201 with the token and its secret, shown this once.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, description = "The token with its secret, shown this once; Location names it", body = TokenBody, headers(("Location" = String))),
        (status = 400, description = "Invalid name, grants or expiry", body = ErrorBody),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        (status = 409, description = "A token that is not revoked has this name", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let request: CreateToken = body::json(&req, payload, state.body_limit).await?;
    let name = TokenName::parse(
        request
            .name
            .as_deref()
            .ok_or(ValidationError::Missing { field: "name" })?,
    )?;
    let grants = request
        .grants
        .ok_or(ValidationError::Missing { field: "grants" })?
        .iter()
        .map(|g| Grant::parse(&g.role, &g.namespace, g.context.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let grants = Grants::new(grants)?;
    let expires_in = request
        .expires_in_days
        .map(ExpiresInDays::new)
        .transpose()?
        .unwrap_or(ExpiresInDays::DEFAULT);
    let created = state
        .app
        .create_token(&caller, name, grants, expires_in)
        .await?;
    let location = format!("/api/tokens/{}", created.token.id);
    let mut body = wire::token(created.token);
    body.token = Some(created.secret);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// `GET /api/tokens`: newest first, filtered by name and revoked.
#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    params(Paging, TokenFilters),
    responses(
        (status = 200, description = "Tokens, newest first, without secrets", body = PageBody<TokenBody>),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(req.query_string(), &["name", "revoked"])?;
    let filter = TokenFilter {
        name: query.filter("name", TokenName::parse)?,
        revoked: query.filter("revoked", |raw| match raw {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "revoked must be true or false, got {raw:?}"
            ))),
        })?,
    };
    let page = state.app.tokens(&caller, filter, query.page).await?;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::token)))
}

/// `GET /api/tokens/{id}`: a token, without its secret.
#[utoipa::path(get, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token id")),
    responses(
        (status = 200, description = "The token, without its secret", body = TokenBody),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        (status = 404, description = "Unknown or malformed id", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("token", &id)?;
    let token = state.app.token(&caller, id).await?;
    Ok(HttpResponse::Ok().json(wire::token(token)))
}

/// `DELETE /api/tokens/{id}`: revokes it; 204 also when already revoked.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token id")),
    responses(
        (status = 204, description = "Revoked (also when revoked before)"),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        (status = 404, description = "Unknown or malformed id", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn revoke(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("token", &id)?;
    state.app.revoke_token(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/whoami`: the caller's token name, grants and expiry.
#[utoipa::path(get, path = "/api/whoami", tag = "tokens",
    responses(
        (status = 200, description = "The name, grants and expiry of the token", body = WhoamiBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn whoami(Authenticated(caller): Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(wire::whoami(&caller.principal))
}
