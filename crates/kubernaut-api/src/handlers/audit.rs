use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kubernaut_app::AuditFilter;
use kubernaut_domain::AuditAction;
use kubernaut_wire::AuditVerifyBody;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::query::ListQuery;
use crate::wire;
use kubernaut_wire::{AuditEventBody, ErrorBody, PageBody};

use crate::openapi::{AuditFilters, Paging, Refusals};

fn time(name: &'static str) -> impl Fn(&str) -> Result<DateTime<Utc>, ApiError> {
    move |raw| {
        DateTime::parse_from_rfc3339(raw)
            .map(|at| at.to_utc())
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "{name} must be an RFC 3339 time such as 2026-11-22T10:15:30Z, got {raw:?} \
                     ({e})"
                ))
            })
    }
}

fn text(raw: &str) -> Result<String, ApiError> {
    Ok(raw.to_owned())
}

/// `GET /api/audit`: events newest first, with filters.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(Paging, AuditFilters),
    responses(
        (status = 200, description = "Audit events, newest first", body = PageBody<AuditEventBody>),
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
    let query = ListQuery::parse(
        req.query_string(),
        &[
            "actor",
            "action",
            "resourceType",
            "resourceId",
            "namespace",
            "context",
            "since",
            "until",
        ],
    )?;
    let filter = AuditFilter {
        actor: query.filter("actor", text)?,
        action: query.filter("action", AuditAction::parse)?,
        resource_type: query.filter("resourceType", text)?,
        resource_id: query.filter("resourceId", text)?,
        namespace: query.filter("namespace", text)?,
        context: query.filter("context", text)?,
        since: query.filter("since", time("since"))?,
        until: query.filter("until", time("until"))?,
    };
    let page = state.app.audit_events(&caller, filter, query.page).await?;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::audit_event)))
}

/// `GET /api/audit/verify`: recomputes the hash chain.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "Whether the hash chain is intact", body = AuditVerifyBody),
        (status = 403, description = "Only a global admin may", body = ErrorBody),
        Refusals
    ),
    security(("bearer" = [])))]
pub(crate) async fn verify(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let verification = state.app.verify_audit(&caller).await?;
    Ok(HttpResponse::Ok().json(AuditVerifyBody {
        ok: verification.ok,
        events: verification.events,
        first_bad_event: verification.first_bad_event,
    }))
}
