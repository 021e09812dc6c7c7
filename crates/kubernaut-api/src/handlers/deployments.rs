use std::time::Duration;

use actix_web::http::header;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use kubernaut_domain::{
    ANONYMOUS, ContextName, DeploymentStatus, Namespace, NewDeployment, ReleaseDetail, ServiceName,
    Version,
};
use kubernaut_store::{DeploymentFilter, Store};
use tokio::time::Instant;
use uuid::Uuid;

use crate::AppState;
use crate::body;
use crate::deploy;
use crate::error::ApiError;
use crate::handlers::{not_found, parse_id};
use crate::query::{ListQuery, parameters};
use crate::wire;

/// The longest `?wait=` accepted, in seconds.
const MAX_WAIT_SECS: u64 = 900;
/// How often a waiting request reads the deployment again.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// `POST /api/deployments`: renders the release for the context, stores the deployment as
/// pending (202), and with `?wait=N` answers 200 once it ended or N seconds passed.
pub(crate) async fn create(
    state: Data<AppState>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let wait = parse_wait(req.query_string())?;
    let request: kubernaut_wire::CreateDeployment =
        body::json(&req, payload, state.body_limit).await?;
    let context = ContextName::parse(
        request
            .context
            .as_deref()
            .ok_or(kubernaut_domain::ValidationError::Missing { field: "context" })?,
    )?;
    if !state.contexts.contains(context.as_str()) {
        let known: Vec<String> = state.contexts.list().into_iter().map(|c| c.name).collect();
        return Err(ApiError::BadRequest(format!(
            "context {context} is not configured on this server; known contexts: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let lookup = ReleaseLookup::parse(request)?;
    let shared = state.clone();
    let detail = web::block(move || {
        let store = &shared.store;
        let release = lookup.find(store)?;
        let template = shared.templates.get(&release.source)?;
        let manifest = deploy::render(&release, &template, &context, shared.allow_cluster_scoped)?;
        let new = NewDeployment {
            release_id: release.release.id,
            context,
            manifest: manifest.yaml,
            created_by: ANONYMOUS.to_owned(),
        };
        let first_line = format!(
            "rendered release {} of {} for context {}: {} object(s)",
            release.release.version,
            release.release.service.name,
            new.context,
            manifest.documents.len()
        );
        Ok::<_, ApiError>(store.create_deployment(&new, &first_line)?)
    })
    .await??;
    state.signals.stored();
    let id = detail.deployment.id;
    let location = format!("/api/deployments/{id}");
    match wait {
        None => Ok(HttpResponse::Accepted()
            .insert_header((header::LOCATION, location))
            .json(wire::deployment_detail(detail))),
        Some(wait) => {
            let current = wait_for_end(&state, id, wait).await?.unwrap_or(detail);
            Ok(HttpResponse::Ok()
                .insert_header((header::LOCATION, location))
                .json(wire::deployment_detail(current)))
        }
    }
}

/// How the request names the release.
enum ReleaseLookup {
    Id(Uuid),
    Version(ServiceName, Namespace, Version),
}

impl ReleaseLookup {
    fn parse(request: kubernaut_wire::CreateDeployment) -> Result<Self, ApiError> {
        let by_version = request.service.is_some() || request.version.is_some();
        match (request.release, by_version) {
            (Some(_), true) => Err(ApiError::BadRequest(
                "give either release or service and version, not both".to_owned(),
            )),
            (Some(id), false) => Uuid::parse_str(&id).map(ReleaseLookup::Id).map_err(|_| {
                ApiError::BadRequest(format!("release must be a release id (a UUID), got {id:?}"))
            }),
            (None, _) => {
                let service = request.service.ok_or(ApiError::BadRequest(
                    "release is required, or service and version".to_owned(),
                ))?;
                let version = request
                    .version
                    .ok_or(kubernaut_domain::ValidationError::Missing { field: "version" })?;
                let namespace = match request.namespace {
                    Some(namespace) => Namespace::parse(&namespace)?,
                    None => Namespace::default(),
                };
                Ok(ReleaseLookup::Version(
                    ServiceName::parse(&service)?,
                    namespace,
                    Version::parse(&version)?,
                ))
            }
        }
    }

    fn find(&self, store: &Store) -> Result<ReleaseDetail, ApiError> {
        match self {
            ReleaseLookup::Id(id) => store
                .release(*id)?
                .ok_or_else(|| not_found("release", &id.to_string())),
            ReleaseLookup::Version(service, namespace, version) => store
                .release_by_version(service, namespace, version)?
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "release {version} of service {service} in namespace {namespace} does \
                         not exist"
                    ))
                }),
        }
    }
}

/// `?wait=<seconds>`, the only query parameter `POST /api/deployments` takes.
fn parse_wait(query: &str) -> Result<Option<Duration>, ApiError> {
    let mut parameters = parameters(query, &["wait"], "POST /api/deployments accepts wait")?;
    parameters
        .remove("wait")
        .map(|value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_WAIT_SECS)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "wait must be an integer number of seconds from 0 to {MAX_WAIT_SECS}, \
                         got {value:?}"
                    ))
                })
        })
        .transpose()
}

/// Reads the deployment until it ended or `wait` passed; its last state. It is read again when
/// this server's worker ends a deployment, and every [`WAIT_POLL`] for other servers' workers.
async fn wait_for_end(
    state: &AppState,
    id: Uuid,
    wait: Duration,
) -> Result<Option<kubernaut_domain::DeploymentDetail>, ApiError> {
    let deadline = Instant::now() + wait;
    loop {
        let end_signal = state.signals.next_end();
        let reader = state.store.clone();
        let current = web::block(move || reader.deployment(id)).await??;
        let ended = current
            .as_ref()
            .is_none_or(|d| d.deployment.status.is_terminal());
        if ended || Instant::now() >= deadline {
            return Ok(current);
        }
        let poll = WAIT_POLL.min(deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = end_signal => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// `GET /api/deployments`: newest first, filtered by service, namespace, version, context,
/// status and release.
pub(crate) async fn list(
    state: Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(
        req.query_string(),
        &[
            "service",
            "namespace",
            "version",
            "context",
            "status",
            "release",
        ],
    )?;
    let filter = DeploymentFilter {
        service: query.filter("service", ServiceName::parse)?,
        namespace: query.filter("namespace", Namespace::parse)?,
        version: query.filter("version", Version::parse)?,
        context: query.filter("context", ContextName::parse)?,
        status: query.filter("status", DeploymentStatus::parse)?,
        release: query.filter("release", |raw| {
            Uuid::parse_str(raw).map_err(|_| {
                ApiError::BadRequest(format!(
                    "release must be a release id (a UUID), got {raw:?}"
                ))
            })
        })?,
    };
    let store = state.store.clone();
    let page = web::block(move || store.deployments(&filter, query.page)).await??;
    Ok(HttpResponse::Ok().json(wire::page(page, wire::deployment_summary)))
}

/// `GET /api/deployments/{id}`: the deployment with its manifest and log.
pub(crate) async fn get(
    state: Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let deployment_id = parse_id("deployment", &id)?;
    let store = state.store.clone();
    match web::block(move || store.deployment(deployment_id)).await?? {
        Some(detail) => Ok(HttpResponse::Ok().json(wire::deployment_detail(detail))),
        None => Err(not_found("deployment", &id)),
    }
}

/// `DELETE /api/deployments/{id}`: hides the record (nothing is removed from the cluster); 204
/// also when already deleted.
pub(crate) async fn delete(
    state: Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let deployment_id = parse_id("deployment", &id)?;
    let store = state.store.clone();
    if web::block(move || store.delete_deployment(deployment_id, ANONYMOUS)).await?? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found("deployment", &id))
    }
}
