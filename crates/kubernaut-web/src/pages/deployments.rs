//! Deployments: the list with its filters, a deployment's page (its status and log, followed
//! live while it runs, the error explained, the rendered manifest), and the forms that create
//! and cancel deployments.

use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::{DeploymentFilter, DeploymentRequest, ReleaseLookup};
use kubernaut_domain::{
    Action, ContextName, Deployment, DeploymentDetail, DeploymentStatus, Namespace, ServiceName,
    Stream, Version,
};
use maud::{Markup, html};
use uuid::Uuid;

use crate::WebState;
use crate::error::WebError;
use crate::input::{Params, path_id};
use crate::layout::{self, Nav};
use crate::session::{Session, see_other};

/// The filters of the list, as its query string names them.
const FILTERS: [&str; 5] = ["service", "namespace", "context", "status", "version"];

/// `GET /deployments?service=&namespace=&context=&status=&version=&offset=`.
pub(crate) async fn list(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = Params::query(&req)?;
    let filter = DeploymentFilter {
        service: params.get("service").map(ServiceName::parse).transpose()?,
        namespace: params.get("namespace").map(Namespace::parse).transpose()?,
        context: params.get("context").map(ContextName::parse).transpose()?,
        status: params
            .get("status")
            .map(DeploymentStatus::parse)
            .transpose()?,
        version: params.get("version").map(Version::parse).transpose()?,
        release: None,
    };
    let paged = state
        .app
        .deployments(&session.caller, filter, params.page()?)
        .await?;
    let body = html! {
        form.filters method="get" action="/deployments" role="search" {
            (layout::filter(&params, "service", "Service"))
            (layout::filter(&params, "namespace", "Namespace"))
            (layout::filter(&params, "context", "Context"))
            (layout::filter(&params, "version", "Version"))
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "any" }
                    @for status in DeploymentStatus::ALL {
                        option value=(status.as_str()) selected[params.get("status") == Some(status.as_str())] { (status.as_str()) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        (table(&paged.items, true))
        (layout::pager(&paged, "/deployments", &params.kept(&FILTERS)))
    };
    Ok(layout::page(
        &session,
        Nav::Deployments,
        "Deployments",
        body,
    ))
}

/// A table of deployments, with their service when `with_service`.
pub(crate) fn table(deployments: &[Deployment], with_service: bool) -> Markup {
    html! {
        @if deployments.is_empty() {
            p { "No deployment." }
        } @else {
            table.stack {
                thead {
                    tr {
                        th scope="col" { "Deployment" }
                        @if with_service { th scope="col" { "Service" } th scope="col" { "Namespace" } }
                        th scope="col" { "Version" } th scope="col" { "Context" } th scope="col" { "Status" }
                        th scope="col" { "Created" } th scope="col" { "By" }
                    }
                }
                tbody {
                    @for d in deployments {
                        tr {
                            td data-label="Deployment" { a href={ "/deployments/" (d.id) } { (short(d.id)) } @if d.rollback { " (rollback)" } }
                            @if with_service {
                                td data-label="Service" { a href={ "/services/" (d.release.service.id) } { (d.release.service.name) } }
                                td data-label="Namespace" { (d.namespace) }
                            }
                            td data-label="Version" { a href={ "/releases/" (d.release.id) } { (d.release.version) } }
                            td data-label="Context" { (d.context) }
                            td data-label="Status" { (layout::status(d.status)) }
                            td data-label="Created" { (layout::time(d.created_on)) }
                            td data-label="By" { (d.created_by) }
                        }
                    }
                }
            }
        }
    }
}

/// The first block of an id, enough to tell deployments apart in a list.
fn short(id: Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

/// `GET /deployments/{id}`.
pub(crate) async fn page(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(&req, "deployment")?;
    let detail = state.app.deployment(&session.caller, id).await?;
    let newest = is_newest(&state, &session, &detail).await?;
    let d = &detail.deployment;
    let body = html! {
        dl.facts {
            dt { "Service" } dd { a href={ "/services/" (d.release.service.id) } { (d.release.service.name) } " in namespace " (d.namespace) }
            dt { "Release" } dd { a href={ "/releases/" (d.release.id) } { "version " (d.release.version) } }
            dt { "Context" } dd { (d.context) }
            dt { "Created" } dd { (layout::time(d.created_on)) " by " strong { (d.created_by) } }
            dt { "Options" } dd {
                @if d.rollback { "a rollback; " }
                @if d.prune { "prunes objects the release dropped" } @else { "does not prune" }
                @if d.auto_rollback { "; rolls back if it fails" }
            }
            dt { "Id" } dd { code { (d.id) } }
        }
        h2 { "Status" }
        p.status-line { span #status aria-live="polite" { (layout::status(d.status)) } }
        (live_section(&session, &detail, newest))
        details {
            summary { "Rendered manifest" }
            (layout::pre(&detail.manifest))
        }
    };
    let title = format!(
        "Deployment of {} {} to {}",
        d.release.service.name, d.release.version, d.context
    );
    Ok(layout::page(&session, Nav::Deployments, &title, body))
}

/// `GET /deployments/{id}/live`: the live part of the page, which htmx swaps in every second
/// while the deployment runs, and the status, updated in its live region in place.
pub(crate) async fn live(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(&req, "deployment")?;
    let detail = state.app.deployment(&session.caller, id).await?;
    let newest = is_newest(&state, &session, &detail).await?;
    Ok(layout::fragment(html! {
        (live_section(&session, &detail, newest))
        span #status hx-swap-oob="innerHTML" { (layout::status(detail.deployment.status)) }
    }))
}

/// Whether a failed deployment is still its lane's newest, which a rollback would put right.
async fn is_newest(
    state: &WebState,
    session: &Session,
    detail: &DeploymentDetail,
) -> Result<bool, WebError> {
    let d = &detail.deployment;
    if d.status != DeploymentStatus::Failed || d.rolled_back_by.is_some() {
        return Ok(false);
    }
    let service = state
        .app
        .service(&session.caller, d.release.service.id)
        .await?;
    Ok(service
        .latest_deployments
        .iter()
        .any(|newest| newest.id == d.id))
}

/// Times, error, actions and log; polled while the deployment runs, still once it ended. A
/// failed deployment that is still its lane's `newest` offers a rollback.
fn live_section(session: &Session, detail: &DeploymentDetail, newest: bool) -> Markup {
    let d = &detail.deployment;
    let running = !d.status.is_terminal();
    let grants = session.caller.grants();
    let namespace = d.namespace.as_str();
    let poll = running.then(|| format!("/deployments/{}/live", d.id));
    html! {
        section #live aria-label="Progress" hx-get=[poll.as_deref()] hx-trigger=[poll.as_ref().map(|_| "every 1s")] hx-swap=[poll.as_ref().map(|_| "outerHTML")] {
            @if running {
                noscript { p { "This page does not follow the deployment without JavaScript: " a href={ "/deployments/" (d.id) } { "reload it" } " to see its progress." } }
            }
            dl.facts {
                dt { "Started" } dd { @match d.started_on { Some(at) => (layout::time(at)), None => (layout::none()) } }
                dt { "Finished" } dd { @match d.finished_on { Some(at) => (layout::time(at)), None => (layout::none()) } }
                @if let Some(rollback) = d.rolled_back_by {
                    dt { "Rolled back by" } dd { a href={ "/deployments/" (rollback) } { "deployment " (short(rollback)) } }
                }
            }
            @if d.status == DeploymentStatus::Failed {
                div.notice.error role="alert" {
                    h3 { "Why it failed" }
                    p.error-message { (d.error.as_deref().unwrap_or("the deployment failed without a message; the log below shows its last step")) }
                    p.explanation { (explain(d.error.as_deref().unwrap_or_default())) }
                    p { "Objects applied before the failure stay in the cluster as they are; the log below shows every step. "
                        "Fix the release and deploy a new version, or roll back to the last release that succeeded here." }
                }
            }
            @if d.status == DeploymentStatus::Canceled {
                div.notice role="status" { p { "This deployment was canceled. Objects applied before it stopped stay in the cluster." } }
            }
            div.actions {
                @if running && grants.allows(Action::Cancel, namespace, Some(d.context.as_str())) {
                    (cancel_form(session, d))
                }
                @if newest && grants.allows(Action::Deploy, namespace, Some(d.context.as_str())) {
                    (rollback_form(session, d))
                }
            }
            h3 { "Log" }
            ol.log aria-label="Deployment log" {
                @for line in &detail.log {
                    li class=(line.stream.as_str()) {
                        (layout::time(line.written_on))
                        @if line.stream == Stream::Stderr { span.visually-hidden { "error: " } }
                        (line.content)
                    }
                }
            }
        }
    }
}

/// What a deployment's error means, in the words of someone who has seen it before: the
/// worker's and the cluster's messages have a few shapes.
fn explain(error: &str) -> &'static str {
    let has = |part: &str| error.contains(part);
    if has("failed to roll out") {
        "A workload did not become ready: Kubernetes reported its rollout as failed (for a \
         Deployment, past its progress deadline). Its pods are usually the reason: an image that \
         cannot be pulled, a container that crashes, a readiness probe that fails. The service's \
         live objects show their health."
    } else if has("did not roll out within") {
        "A workload was still rolling out when the worker's rollout timeout ran out. The last \
         status it reported is above; the rollout may still finish in the cluster, or be stuck \
         on pods that do not become ready."
    } else if has("was rejected by the API server") || has("cannot be applied") {
        "The cluster's API server refused an object of the rendered manifest, so nothing after \
         it was applied. The message names the object and the field; fix the template or the \
         release's attributes."
    } else if has("cannot reach") || has("unexpected answer") || has("cannot use") {
        "Kubernaut could not talk to the cluster of this context (its address, its credentials, \
         or the network). Nothing is wrong with the release: deploy it again once the cluster \
         answers."
    } else if has("ApplySet") {
        "The service's ApplySet parent in the cluster is not the one kubernaut keeps: another \
         tool may manage these objects. Kubernaut will not change or prune them until that is \
         sorted out."
    } else if has("cannot prune") {
        "The new objects were applied and rolled out, but removing the objects the release \
         dropped failed."
    } else if has("interrupted") {
        "The kubernaut-server running this deployment stopped (restarted, or lost its database) \
         several times while it ran, so it was given up."
    } else if has("is not configured") {
        "This server has no such context (any more): check its kubeconfig or --sandbox."
    } else {
        "Kubernaut stopped at the step the log shows last."
    }
}

/// The form that cancels a running deployment (its button keeps its id, and so the keyboard
/// focus, when the page is refreshed live).
pub(crate) fn cancel_form(session: &Session, d: &Deployment) -> Markup {
    html! {
        form.inline-form method="post" action={ "/deployments/" (d.id) "/cancel" } {
            (layout::csrf_field(session))
            button.danger id={ "cancel-" (d.id) } type="submit" { "Cancel deployment" }
        }
    }
}

/// The form that rolls back the lane whose newest deployment is `d`: refused (409) when the
/// lane has moved on since the page was shown.
pub(crate) fn rollback_form(session: &Session, d: &Deployment) -> Markup {
    html! {
        form.inline-form method="post" action={ "/services/" (d.release.service.id) "/rollback" } {
            (layout::csrf_field(session))
            input type="hidden" name="context" value=(d.context);
            input type="hidden" name="newest" value=(d.id);
            button id={ "rollback-" (d.id) } type="submit" { "Roll back " (d.context) }
        }
    }
}

/// `POST /deployments` (`release`, `context`, `prune`, `auto_rollback`): deploys a release.
pub(crate) async fn create(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = session.form(&req, &state, &body).await?;
    let release = params.required("release", "a release")?;
    let release = Uuid::parse_str(release)
        .map_err(|_| WebError::not_found(format!("release {release} does not exist")))?;
    let request = DeploymentRequest {
        release: ReleaseLookup::Id(release),
        context: ContextName::parse(params.required("context", "a context")?)?,
        auto_rollback: params.checked("auto_rollback"),
        prune: params.checked("prune"),
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

/// `POST /deployments/{id}/cancel`.
pub(crate) async fn cancel(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    session.form(&req, &state, &body).await?;
    let id = path_id(&req, "deployment")?;
    state.app.cancel_deployment(&session.caller, id).await?;
    Ok(see_other(&format!("/deployments/{id}")))
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn errors_are_explained_by_their_shape() {
        for (error, explanation) in [
            (
                "deployment.apps/web failed to roll out: progress deadline exceeded",
                "A workload did not become ready",
            ),
            (
                "deployment.apps/web did not roll out within 300s: waiting",
                "A workload was still rolling out",
            ),
            (
                "deployment.apps/web was rejected by the API server (422 Invalid): spec",
                "The cluster's API server refused",
            ),
            (
                "cannot reach https://10.0.0.1 about deployment.apps/web: timed out",
                "Kubernaut could not talk to the cluster",
            ),
            (
                "interrupted 3 times: the kubernaut-server running it stopped",
                "The kubernaut-server running",
            ),
            ("something new", "Kubernaut stopped at the step"),
        ] {
            assert!(explain(error).starts_with(explanation), "{error}");
        }
    }
}
