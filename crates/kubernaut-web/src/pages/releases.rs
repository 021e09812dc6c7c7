//! Releases: the list with its filters, a release's page (attributes, template, its
//! deployments, and the form that deploys it), and the form that creates one (what CI does
//! through the API, for a person).

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_app::{DeploymentFilter, ReleaseFilter};
use kubernaut_domain::{
    Attributes, Namespace, NewRelease, Page, ServiceName, TemplateSource, Version,
};
use maud::html;

use crate::WebState;
use crate::error::WebError;
use crate::input::{Params, path_id};
use crate::layout::{self, Nav};
use crate::pages::{deployments, services};
use crate::session::{Session, see_other};

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
    let body = html! {
        p { a href="/releases/new" { "New release" } }
        form.filters method="get" action="/releases" role="search" {
            (layout::filter(&params, "service", "Service"))
            (layout::filter(&params, "namespace", "Namespace"))
            (layout::filter(&params, "version", "Version"))
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
        (services::deploy_form(&session, &state, std::slice::from_ref(release), &release.service.namespace))
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

/// `GET /releases/new`: the form that creates a release.
pub(crate) async fn new_form(session: Session) -> HttpResponse {
    let body = html! {
        p { "CI pipelines create releases through the API (" code { "kubernaut ship" } "); this form does the same by hand." }
        form.login method="post" action="/releases" {
            (layout::csrf_field(&session))
            label for="service" { "Service" }
            input #service name="service" required placeholder="hello-world";
            label for="namespace" { "Namespace" }
            input #namespace name="namespace" required value="default";
            label for="version" { "Version" }
            input #version name="version" required placeholder="1";
            label for="template" { "Manifest template (mustache)" }
            textarea #template name="template" rows="14" required spellcheck="false" {}
            label for="attributes" { "Attributes, one name=value per line" }
            textarea #attributes name="attributes" rows="3" spellcheck="false" placeholder="image=registry.example.com/hello-world:1" {}
            button.primary type="submit" { "Create release" }
        }
    };
    layout::page(&session, Nav::Releases, "New release", body)
}

/// `POST /releases` (`service`, `namespace`, `version`, `template`, `attributes`): creates a
/// release (or finds the same one), then shows it.
pub(crate) async fn create(
    req: HttpRequest,
    session: Session,
    body: Bytes,
    state: Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let params = session.form(&req, &state, &body).await?;
    let attributes = params
        .get("attributes")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.split_once('=').ok_or_else(|| {
                WebError::bad_request(format!("the attribute line {line:?} must be name=value"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewRelease::new(
        ServiceName::parse(params.required("service", "a service")?)?,
        Namespace::parse(params.required("namespace", "a namespace")?)?,
        Version::parse(params.required("version", "a version")?)?,
        TemplateSource::parse(
            params
                .text("template")
                .ok_or_else(|| WebError::bad_request("the form needs a template".to_owned()))?,
        )?,
        Attributes::parse(attributes.into_iter().map(|(n, v)| (n.trim(), v.trim())))?,
        session.caller.name(),
    )?;
    let stored = state.app.create_release(&session.caller, new).await?;
    let id = stored.outcome.into_inner().release.id;
    if stored.warnings.is_empty() {
        return Ok(see_other(&format!("/releases/{id}")));
    }
    let body = html! {
        div.notice role="status" {
            p { "The release was stored, with warnings:" }
            ul { @for warning in &stored.warnings { li { (warning) } } }
        }
        p { a href={ "/releases/" (id) } { "Go to the release" } }
    };
    let mut response = layout::page(&session, Nav::Releases, "Release created", body);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}
