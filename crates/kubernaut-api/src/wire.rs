//! Domain values as API bodies. The body types live in `kubernaut-wire`, shared with clients;
//! this module fills them in, formatting timestamps as RFC 3339 UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};
use kubernaut_cluster::ContextInfo;
use kubernaut_domain::{
    Attributes, Deployment, DeploymentDetail, LogEntry, Paged, Release, ReleaseDetail, Service,
};
use kubernaut_store::ServiceDetail;
use kubernaut_wire::{
    ContextBody, DeploymentBody, DeploymentReleaseBody, LogLineBody, PageBody, ReleaseBody,
    ServiceBody, ServiceDetailBody, ServiceRef, TemplateBody,
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
