//! Domain values as API bodies. The body types live in `kubernaut-wire`, shared with clients;
//! this module fills them in, formatting timestamps as RFC 3339 UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};
use kubernaut_app::ContextInfo;
use kubernaut_app::{DryRunReport, LiveObject, Principal, ServiceDetail};
use kubernaut_domain::{
    Attributes, AuditEvent, Deployment, DeploymentDetail, Grants, LogEntry, Paged, Release,
    ReleaseDetail, Service, Token,
};
use kubernaut_wire::{
    AuditEventBody, ContextBody, DeploymentBody, DeploymentReleaseBody, DryRunBody,
    DryRunObjectBody, GrantBody, LiveBody, LiveObjectBody, LogLineBody, PageBody, ReleaseBody,
    ServiceBody, ServiceDetailBody, ServiceRef, TemplateBody, TokenBody, WhoamiBody,
};

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn service_ref(service: &Service) -> ServiceRef {
    ServiceRef {
        id: service.id,
        name: service.name.to_string(),
        namespace: service.namespace.to_string(),
    }
}

fn attributes(attributes: &Attributes) -> std::collections::BTreeMap<String, String> {
    attributes
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// A release without its template source, as lists show it.
pub(crate) fn release_summary(release: Release) -> ReleaseBody {
    ReleaseBody {
        id: release.id,
        service: service_ref(&release.service),
        version: release.version.to_string(),
        template: TemplateBody {
            id: release.template.id,
            checksum: release.template.checksum.to_string(),
            source: None,
        },
        attributes: attributes(&release.attributes),
        created_on: timestamp(release.created_on),
        created_by: release.created_by,
    }
}

/// A release with its template source.
pub(crate) fn release_detail(detail: ReleaseDetail) -> ReleaseBody {
    let mut body = release_summary(detail.release);
    body.template.source = Some(detail.source.as_str().to_owned());
    body
}

/// A service in the service list.
pub(crate) fn service(service: Service) -> ServiceBody {
    ServiceBody {
        id: service.id,
        name: service.name.to_string(),
        namespace: service.namespace.to_string(),
        created_on: timestamp(service.created_on),
    }
}

/// A service with its latest release and its latest deployment per context.
pub(crate) fn service_detail(detail: ServiceDetail) -> ServiceDetailBody {
    ServiceDetailBody {
        service: service(detail.service),
        latest_release: detail.latest_release.map(release_summary),
        latest_deployments: detail
            .latest_deployments
            .into_iter()
            .map(|d| (d.context.to_string(), deployment_summary(d)))
            .collect(),
    }
}

fn log_line(entry: LogEntry) -> LogLineBody {
    LogLineBody {
        written_on: timestamp(entry.written_on),
        stream: entry.stream,
        content: entry.content,
    }
}

/// A deployment without manifest and log, as lists show it.
pub(crate) fn deployment_summary(deployment: Deployment) -> DeploymentBody {
    DeploymentBody {
        id: deployment.id,
        release: DeploymentReleaseBody {
            id: deployment.release.id,
            service: service_ref(&deployment.release.service),
            version: deployment.release.version.to_string(),
        },
        context: deployment.context.to_string(),
        namespace: deployment.namespace.to_string(),
        status: deployment.status,
        manifest: None,
        log: None,
        error: deployment.error,
        created_on: timestamp(deployment.created_on),
        created_by: deployment.created_by,
        started_on: deployment.started_on.map(timestamp),
        finished_on: deployment.finished_on.map(timestamp),
        rollback: deployment.rollback,
        auto_rollback: deployment.auto_rollback,
        rolled_back_by: deployment.rolled_back_by,
        prune: deployment.prune,
    }
}

/// A deployment with its manifest and log.
pub(crate) fn deployment_detail(detail: DeploymentDetail) -> DeploymentBody {
    let mut body = deployment_summary(detail.deployment);
    body.manifest = Some(detail.manifest);
    body.log = Some(detail.log.into_iter().map(log_line).collect());
    body
}

/// A context a deployment can target.
pub(crate) fn context(info: ContextInfo) -> ContextBody {
    ContextBody {
        name: info.name,
        kind: info.kind.to_string(),
    }
}

fn grants(grants: &Grants) -> Vec<GrantBody> {
    grants
        .iter()
        .map(|grant| GrantBody {
            role: grant.role.to_string(),
            namespace: grant.namespace.to_string(),
            context: Some(grant.context.to_string()),
        })
        .collect()
}

/// A token without its secret.
pub(crate) fn token(token: Token) -> TokenBody {
    TokenBody {
        id: token.id,
        name: token.name.to_string(),
        grants: grants(&token.grants),
        created_on: timestamp(token.created_on),
        created_by: token.created_by,
        expires_on: token.expires_on.map(timestamp),
        last_used_on: token.last_used_on.map(timestamp),
        revoked_on: token.revoked_on.map(timestamp),
        token: None,
    }
}

/// The caller's token.
pub(crate) fn whoami(principal: &Principal) -> WhoamiBody {
    WhoamiBody {
        name: principal.name.clone(),
        grants: grants(&principal.grants),
        expires_on: principal.expires_on.map(timestamp),
    }
}

/// An audit event, with its hash.
pub(crate) fn audit_event(event: AuditEvent) -> AuditEventBody {
    AuditEventBody {
        id: event.id,
        at: timestamp(event.at),
        actor: event.actor,
        action: event.action.to_string(),
        resource_type: event.resource_type,
        resource_id: event.resource_id,
        namespace: event.namespace,
        context: event.context,
        remote_addr: event.remote_addr,
        request_id: event.request_id,
        details: event.details,
        hash: event.hash,
    }
}

/// What a dry run found.
pub(crate) fn dry_run(report: DryRunReport) -> DryRunBody {
    DryRunBody {
        manifest: report.manifest,
        objects: report
            .objects
            .into_iter()
            .map(|object| DryRunObjectBody {
                api_version: object.object.api_version,
                kind: object.object.kind,
                name: object.object.name,
                namespace: object.namespace,
                action: object.action.as_str().to_owned(),
                diff: object.diff,
            })
            .collect(),
    }
}

/// A service's live objects in a context.
pub(crate) fn live(context: &str, objects: Vec<LiveObject>) -> LiveBody {
    LiveBody {
        context: context.to_owned(),
        objects: objects
            .into_iter()
            .map(|object| {
                let (health, message) = object.health();
                LiveObjectBody {
                    api_version: object.api_version,
                    kind: object.kind,
                    name: object.name,
                    namespace: object.namespace,
                    health: health.as_str().to_owned(),
                    message,
                }
            })
            .collect(),
    }
}

/// A domain page as a list body, its items mapped by `f`.
pub(crate) fn page<U, T>(paged: Paged<U>, f: impl FnMut(U) -> T) -> PageBody<T> {
    let paged = paged.map(f);
    PageBody {
        items: paged.items,
        count: paged.count,
        limit: paged.limit,
        offset: paged.offset,
    }
}
