//! `/`: what runs where, the services (rows) by contexts (columns), each cell the lane's newest
//! deployment: version, status, how long ago, and what runs there when that is another
//! version. Failed cells stand out. Two queries (`kubernaut-store`'s lanes).

use std::collections::BTreeSet;

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use kubernaut_app::{Lane, LaneFilter, ServiceLanes};
use kubernaut_domain::DeploymentStatus;
use maud::{Markup, html};

use crate::WebState;
use crate::error::WebError;
use crate::input::Params;
use crate::layout::{self, Nav};
use crate::session::Session;

/// `GET /?namespace=&name=`.
pub(crate) async fn page(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = Params::query(&req)?;
    let filter = LaneFilter {
        namespace: params.get("namespace").map(str::to_owned),
        name: params.get("name").map(str::to_owned),
    };
    let services = state
        .app
        .what_runs_where(&session.caller, filter.clone())
        .await?;
    let configured: Vec<String> = state
        .app
        .list_contexts(&session.caller)
        .into_iter()
        .map(|c| c.name)
        .collect();
    let mut others = BTreeSet::new();
    for service in &services {
        for lane in &service.lanes {
            if !configured.iter().any(|c| c == lane.context.as_str()) {
                others.insert(lane.context.to_string());
            }
        }
    }
    let contexts: Vec<String> = configured.into_iter().chain(others).collect();
    let failing = services
        .iter()
        .flat_map(|s| &s.lanes)
        .filter(|lane| lane.status == DeploymentStatus::Failed)
        .count();
    let now = Utc::now();
    let body = html! {
        form.filters method="get" action="/" role="search" {
            div {
                label for="namespace" { "Namespace" }
                input #namespace name="namespace" value=[filter.namespace.as_deref()];
            }
            div {
                label for="name" { "Service name contains" }
                input #name name="name" value=[filter.name.as_deref()];
            }
            button type="submit" { "Filter" }
            @if filter != LaneFilter::default() { a href="/" { "Clear" } }
        }
        @if failing > 0 {
            div.notice.error role="status" {
                p { strong { (failing) } @if failing == 1 { " deployment failed" } @else { " deployments failed" } " (highlighted below)." }
            }
        }
        @if services.is_empty() {
            p { "No service matches. Services appear here when a release of them is created." }
        } @else {
            p.muted { (count(services.len(), "service")) " × " (count(contexts.len(), "context")) ": the newest deployment of each, and what runs where it is not the one that succeeded." }
            div.scroll {
                table.matrix {
                    caption.visually-hidden { "Services by context" }
                    thead {
                        tr {
                            th scope="col" { "Service" }
                            th scope="col" { "Namespace" }
                            @for context in &contexts { th scope="col" { (context) } }
                        }
                    }
                    tbody {
                        @for service in &services { (row(service, &contexts, now)) }
                    }
                }
            }
        }
    };
    Ok(layout::page(&session, Nav::Matrix, "What runs where", body))
}

fn row(service: &ServiceLanes, contexts: &[String], now: chrono::DateTime<Utc>) -> Markup {
    html! {
        tr {
            th scope="row" { a href={ "/services/" (service.service.id) } { (service.service.name) } }
            td { (service.service.namespace) }
            @for context in contexts {
                @match service.lanes.iter().find(|l| l.context.as_str() == context) {
                    Some(lane) => (cell(lane, now)),
                    None => td.empty { span.muted aria-hidden="true" { "—" } span.visually-hidden { "not deployed" } },
                }
            }
        }
    }
}

fn cell(lane: &Lane, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        td class={ "cell " (lane.status.as_str()) } {
            a href={ "/deployments/" (lane.deployment) } { (lane.version) }
            " " (layout::status(lane.status)) " "
            (layout::Stamp { at: lane.changed_on, since: Some(now) })
            @match &lane.running {
                Some((id, version)) if *id != lane.deployment => {
                    span.running { "running " a href={ "/deployments/" (id) } { (version) } }
                }
                None if lane.status != DeploymentStatus::Succeeded => {
                    span.running { "nothing succeeded yet" }
                }
                _ => {}
            }
        }
    }
}

/// `n` things, in words: "1 service", "3 services".
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}
