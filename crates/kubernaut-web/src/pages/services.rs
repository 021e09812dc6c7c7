//! `/services/{id}`: a service's lanes with their actions (roll back, cancel: only for callers
//! whose grants allow them), a form to deploy one of its releases, the live objects in each
//! context it runs in, and its newest releases and deployments.

use std::time::Duration;

use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::future::join_all;
use kubernaut_app::{
    AppError, DeploymentFilter, DeploymentRequest, LiveObject, ReleaseFilter, ReleaseLookup,
};
use kubernaut_domain::{Action, ContextName, Deployment, Namespace, Page, Release, Service};
use maud::{Markup, html};

use crate::WebState;
use crate::error::WebError;
use crate::input::{path_id, url};
use crate::layout::{self, Nav};
use crate::session::{Session, see_other};

/// How long the page waits for a cluster's live objects before saying it could not read them.
const LIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many releases the deploy form offers and the page lists.
const RELEASES_SHOWN: &str = "50";

/// `GET /services/{id}`.
pub(crate) async fn page(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(&req, "service")?;
    let caller = &session.caller;
    let detail = state.app.service(caller, id).await?;
    let service = &detail.service;
    let releases = state
        .app
        .releases(
            caller,
            ReleaseFilter {
                service: Some(service.name.clone()),
                namespace: Some(service.namespace.clone()),
                version: None,
            },
            Page::parse(Some(RELEASES_SHOWN), None)?,
        )
        .await?;
    let deployments = state
        .app
        .deployments(
            caller,
            DeploymentFilter {
                service: Some(service.name.clone()),
                namespace: Some(service.namespace.clone()),
                ..DeploymentFilter::default()
            },
            Page::parse(Some("10"), None)?,
        )
        .await?;
    let live = join_all(detail.latest_deployments.iter().map(|d| {
        let context = d.context.clone();
        let app = state.app.clone();
        async move {
            let read = tokio::time::timeout(LIVE_TIMEOUT, app.live_objects(caller, id, &context));
            let objects = match read.await {
                Ok(result) => result,
                Err(_) => Err(AppError::Unavailable(format!(
                    "the cluster of context {context} did not answer within {} s",
                    LIVE_TIMEOUT.as_secs()
                ))),
            };
            (context, objects)
        }
    }))
    .await;
    let body = html! {
        p.muted { "Namespace " strong { (service.namespace) } }
        h2 { "Contexts" }
        @if detail.latest_deployments.is_empty() {
            p { "This service was never deployed." }
        } @else {
            (lanes(&session, service, &detail.latest_deployments))
        }
        h2 { "Deploy a release" }
        (deploy_form(&session, &state, &releases.items, &service.namespace))
        h2 { "Live objects" }
        @if live.is_empty() { p { "Nothing is deployed, so nothing is live." } }
        @for (context, objects) in &live { (live_objects(context, objects)) }
        h2 { "Releases" }
        (releases_table(&releases.items))
        @if releases.count > releases.items.len() as u64 {
            p { a href=(url("/releases", &[("service".into(), service.name.to_string()), ("namespace".into(), service.namespace.to_string())])) { "All " (releases.count) " releases" } }
        }
        h2 { "Recent deployments" }
        (super::deployments::table(&deployments.items, false))
        p { a href=(url("/deployments", &[("service".into(), service.name.to_string()), ("namespace".into(), service.namespace.to_string())])) { "All deployments of " (service.name) } }
    };
    Ok(layout::page(
        &session,
        Nav::Matrix,
        &format!("Service {}", service.name),
        body,
    ))
}

fn lanes(session: &Session, service: &Service, latest: &[Deployment]) -> Markup {
    let grants = session.caller.grants();
    html! {
        table.stack {
            thead { tr { th scope="col" { "Context" } th scope="col" { "Newest deployment" } th scope="col" { "Status" } th scope="col" { "When" } th scope="col" { "Actions" } } }
            tbody {
                @for d in latest {
                    tr {
                        th scope="row" data-label="Context" { (d.context) }
                        td data-label="Newest deployment" { a href={ "/deployments/" (d.id) } { "version " (d.release.version) } " by " (d.created_by) }
                        td data-label="Status" { (layout::status(d.status)) }
                        td data-label="When" { (layout::ago(d.finished_on.unwrap_or(d.created_on))) }
                        td data-label="Actions" {
                            div.actions {
                                @if grants.allows(Action::Deploy, service.namespace.as_str(), Some(d.context.as_str())) {
                                    (super::deployments::rollback_form(session, d))
                                }
                                @if !d.status.is_terminal() && grants.allows(Action::Cancel, service.namespace.as_str(), Some(d.context.as_str())) {
                                    (super::deployments::cancel_form(session, d))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The form that deploys one of `releases` (of a service in `namespace`), to the contexts the
/// caller may deploy to.
pub(crate) fn deploy_form(
    session: &Session,
    state: &WebState,
    releases: &[Release],
    namespace: &Namespace,
) -> Markup {
    let caller = &session.caller;
    let contexts: Vec<String> = state
        .app
        .list_contexts(caller)
        .into_iter()
        .map(|c| c.name)
        .filter(|context| {
            caller
                .grants()
                .allows(Action::Deploy, namespace.as_str(), Some(context))
        })
        .collect();
    html! {
        @if contexts.is_empty() {
            p.muted { "Your token may not deploy this service to any context." }
        } @else if releases.is_empty() {
            p { "There is no release to deploy." }
        } @else {
            form.filters.deploy method="post" action="/deployments" {
                (layout::csrf_field(session))
                div {
                    label for="release" { "Release" }
                    select #release name="release" {
                        @for release in releases {
                            option value=(release.id) { (release.version) " (" (release.created_on.format("%Y-%m-%d %H:%M UTC")) ")" }
                        }
                    }
                }
                div {
                    label for="context" { "Context" }
                    select #context name="context" {
                        @for context in &contexts { option value=(context) { (context) } }
                    }
                }
                label.checkbox { input type="checkbox" name="prune" value="on" checked; "Prune objects the release dropped" }
                label.checkbox { input type="checkbox" name="auto_rollback" value="on"; "Roll back if it fails" }
                button.primary type="submit" { "Deploy" }
            }
        }
    }
}

fn live_objects(context: &ContextName, objects: &Result<Vec<LiveObject>, AppError>) -> Markup {
    html! {
        h3 { (context) }
        @match objects {
            Err(error) => div.notice.error role="status" { p { "Cannot read the live objects: " (error) } },
            Ok(objects) if objects.is_empty() => p.muted { "No object of this service is in the cluster." },
            Ok(objects) => table.stack {
                thead { tr { th scope="col" { "Object" } th scope="col" { "Health" } th scope="col" { "Detail" } } }
                tbody {
                    @for object in objects {
                        @let (health, message) = object.health();
                        tr {
                            td data-label="Object" { (object.kind) "/" (object.name) }
                            td data-label="Health" class={ "health-" (health.as_str()) } { (health.as_str()) }
                            td data-label="Detail" { (message) }
                        }
                    }
                }
            },
        }
    }
}

/// A table of releases.
pub(crate) fn releases_table(releases: &[Release]) -> Markup {
    html! {
        @if releases.is_empty() {
            p { "No release." }
        } @else {
            table.stack {
                thead { tr { th scope="col" { "Version" } th scope="col" { "Service" } th scope="col" { "Namespace" } th scope="col" { "Created" } th scope="col" { "By" } } }
                tbody {
                    @for release in releases {
                        tr {
                            td data-label="Version" { a href={ "/releases/" (release.id) } { (release.version) } }
                            td data-label="Service" { a href={ "/services/" (release.service.id) } { (release.service.name) } }
                            td data-label="Namespace" { (release.service.namespace) }
                            td data-label="Created" { (layout::time(release.created_on)) }
                            td data-label="By" { (release.created_by) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /services/{id}/rollback` (`context`, `newest`): deploys the lane's last good release,
/// if the lane's newest deployment is still `newest`, the one the page showed (so that a
/// second click, or a page left open, does not roll back what came since).
pub(crate) async fn roll_back(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = session.form(&req, &state, &body).await?;
    let id = path_id(&req, "service")?;
    let context = ContextName::parse(params.required("context", "a context")?)?;
    let detail = state.app.service(&session.caller, id).await?;
    if let Some(seen) = params.get("newest") {
        let newest = detail
            .latest_deployments
            .iter()
            .find(|d| d.context == context)
            .map(|d| d.id.to_string());
        if newest.as_deref() != Some(seen) {
            return Err(AppError::Conflict(format!(
                "the newest deployment of {} to {context} is no longer the one the page showed \
                 ({seen}): reload the page to see what runs there now",
                detail.service.name
            ))
            .into());
        }
    }
    let service = detail.service;
    let request = DeploymentRequest {
        release: ReleaseLookup::LastGood(service.name, service.namespace),
        context,
        auto_rollback: false,
        prune: true,
    };
    let created = state
        .app
        .create_deployment(&session.caller, request)
        .await?;
    Ok(see_other(&format!(
        "/deployments/{}",
        created.deployment.id
    )))
}
