//! Releases: the list with its filters, and a release's page (attributes, template, its
//! deployments, and the form that deploys it).

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::{DeploymentFilter, ReleaseFilter};
use kubernaut_domain::{Action, Namespace, Page, ServiceName, Version};
use maud::html;

use crate::WebState;
use crate::error::WebError;
use crate::input::{Params, path_id};
use crate::layout::{self, Nav};
use crate::pages::{deployments, services};
use crate::session::Session;

/// The filters of the list, as its query string names them.
const FILTERS: [&str; 3] = ["service", "namespace", "version"];

/// `GET /releases?service=&namespace=&version=&offset=`.
pub(crate) async fn list(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = Params::query(&req)?;
    let filter = ReleaseFilter {
        service: params.get("service").map(ServiceName::parse).transpose()?,
        namespace: params.get("namespace").map(Namespace::parse).transpose()?,
        version: params.get("version").map(Version::parse).transpose()?,
    };
    let paged = state
        .app
        .releases(&session.caller, filter, params.page()?)
        .await?;
    let text = |name: &str, label: &str| {
        html! {
            div {
                label for=(name) { (label) }
                input id=(name) name=(name) value=[params.get(name)];
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/releases" role="search" {
            (text("service", "Service"))
            (text("namespace", "Namespace"))
            (text("version", "Version"))
            button type="submit" { "Filter" }
        }
        (services::releases_table(&paged.items))
        (layout::pager(&paged, "/releases", &params.kept(&FILTERS)))
    };
    Ok(layout::page(&session, Nav::Releases, "Releases", body))
}

/// `GET /releases/{id}`.
pub(crate) async fn page(
    req: HttpRequest,
    session: Session,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(&req, "release")?;
    let caller = &session.caller;
    let detail = state.app.release(caller, id).await?;
    let release = &detail.release;
    let deployed = state
        .app
        .deployments(
            caller,
            DeploymentFilter {
                release: Some(id),
                ..DeploymentFilter::default()
            },
            Page::parse(Some("20"), None)?,
        )
        .await?;
    let contexts: Vec<String> = state
        .app
        .list_contexts(caller)
        .into_iter()
        .map(|c| c.name)
        .filter(|context| {
            caller.grants().allows(
                Action::Deploy,
                release.service.namespace.as_str(),
                Some(context),
            )
        })
        .collect();
    let body = html! {
        dl.facts {
            dt { "Service" } dd { a href={ "/services/" (release.service.id) } { (release.service.name) } " in namespace " (release.service.namespace) }
            dt { "Created" } dd { (layout::time(release.created_on)) " by " strong { (release.created_by) } }
            dt { "Template" } dd { code { (release.template.checksum) } }
        }
        h2 { "Attributes" }
        @if release.attributes.iter().next().is_none() {
            p.muted { "None." }
        } @else {
            table.stack.attributes {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
                tbody {
                    @for (name, value) in release.attributes.iter() {
                        tr { th scope="row" data-label="Name" { (name) } td data-label="Value" { code { (value) } } }
                    }
                }
            }
        }
        h2 { "Deploy this release" }
        (services::deploy_form(&session, std::slice::from_ref(release), &contexts))
        h2 { "Its deployments" }
        (deployments::table(&deployed.items, false))
        details {
            summary { "Template" }
            (layout::pre(detail.source.as_str()))
        }
    };
    let title = format!("Release {} of {}", release.version, release.service.name);
    Ok(layout::page(&session, Nav::Releases, &title, body))
}
