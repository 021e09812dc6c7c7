//! The audit log (global admins only): the events with their filters, and verifying the chain.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kubernaut_app::AuditFilter;
use kubernaut_domain::AuditAction;
use maud::html;

use crate::WebState;
use crate::error::WebError;
use crate::input::Params;
use crate::layout::{self, Nav};
use crate::session::Session;

/// The filters of the list, as its query string names them.
const FILTERS: [&str; 8] = [
    "actor",
    "action",
    "resourceType",
    "resourceId",
    "namespace",
    "context",
    "since",
    "until",
];

fn instant(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, WebError> {
    params
        .get(name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|e| {
                    WebError::bad_request(format!(
                        "{name} must be an RFC 3339 time such as 2026-12-01T12:00:00Z, got \
                         {raw:?}: {e}"
                    ))
                })
        })
        .transpose()
}

/// `GET /audit?actor=&action=&resourceType=&resourceId=&namespace=&context=&since=&until=`.
pub(crate) async fn list(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = Params::query(&req)?;
    let filter = AuditFilter {
        actor: params.get("actor").map(str::to_owned),
        action: params.get("action").map(AuditAction::parse).transpose()?,
        resource_type: params.get("resourceType").map(str::to_owned),
        resource_id: params.get("resourceId").map(str::to_owned),
        namespace: params.get("namespace").map(str::to_owned),
        context: params.get("context").map(str::to_owned),
        since: instant(&params, "since")?,
        until: instant(&params, "until")?,
    };
    let paged = state
        .app
        .audit_events(&session.caller, filter, params.page()?)
        .await?;
    let body = html! {
        p { a href="/audit/verify" { "Verify the chain of events" } }
        form.filters method="get" action="/audit" role="search" {
            (layout::filter(&params, "actor", "Actor"))
            div {
                label for="action" { "Action" }
                select #action name="action" {
                    option value="" { "any" }
                    @for action in AuditAction::ALL {
                        option value=(action.as_str()) selected[params.get("action") == Some(action.as_str())] { (action.as_str()) }
                    }
                }
            }
            (layout::filter(&params, "resourceType", "Resource type"))
            (layout::filter(&params, "resourceId", "Resource id"))
            (layout::filter(&params, "namespace", "Namespace"))
            (layout::filter(&params, "context", "Context"))
            button type="submit" { "Filter" }
        }
        table.stack {
            thead { tr { th scope="col" { "At" } th scope="col" { "Actor" } th scope="col" { "Action" } th scope="col" { "Resource" } th scope="col" { "Scope" } th scope="col" { "From" } th scope="col" { "Details" } } }
            tbody {
                @for event in &paged.items {
                    tr class=(event.action.as_str().replace('.', "-")) {
                        td data-label="At" { (layout::time(event.at)) }
                        td data-label="Actor" { (event.actor) }
                        td data-label="Action" { (event.action.as_str()) }
                        td data-label="Resource" { (event.resource_type) @if let Some(id) = &event.resource_id { " " code { (id) } } }
                        td data-label="Scope" { (event.namespace.as_deref().unwrap_or("")) @if let Some(context) = &event.context { " / " (context) } }
                        td data-label="From" { (event.remote_addr.as_deref().unwrap_or("")) }
                        td data-label="Details" {
                            @if !event.details.is_empty() {
                                code { (serde_json::Value::Object(event.details.clone())) }
                            }
                        }
                    }
                }
            }
        }
        (layout::pager(&paged, "/audit", &params.kept(&FILTERS)))
    };
    Ok(layout::page(&session, Nav::Audit, "Audit log", body))
}

/// `GET /audit/verify`: recomputes the chain of hashes.
pub(crate) async fn verify(
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let verification = state.app.verify_audit(&session.caller).await?;
    let body = html! {
        @if verification.ok {
            div.notice.ok role="status" { p { "The chain holds: all " (verification.events) " events are as they were appended." } }
        } @else {
            div.notice.error role="alert" {
                p { "The chain is broken: of " (verification.events) " events, the first that does not match its hash is "
                    code { (verification.first_bad_event.map(|id| id.to_string()).unwrap_or_default()) } "." }
                p { "Someone changed or deleted audit events in the database." }
            }
        }
        p { a href="/audit" { "Back to the audit log" } }
    };
    Ok(layout::page(&session, Nav::Audit, "Audit chain", body))
}
