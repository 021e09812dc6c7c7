//! Request and response bodies, as API.md spells them (camelCase, RFC 3339 UTC timestamps).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use kubernaut_cluster::ContextInfo;
use kubernaut_domain::{
    Attributes, Deployment, DeploymentDetail, LogEntry, Paged, Release, ReleaseDetail, Service,
};
use kubernaut_store::ServiceDetail;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `POST /api/releases` as JSON. Unknown fields are refused, so that a typo is not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// The service's name.
    pub service: Option<String>,
    /// The namespace (default `default`).
    pub namespace: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The mustache manifest template.
    pub template: Option<String>,
    /// String attributes rendered into the template.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A service as embedded in other bodies.
#[derive(Debug, Serialize)]
pub struct ServiceRef {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

impl From<&Service> for ServiceRef {
    fn from(service: &Service) -> Self {
        Self {
            id: service.id,
            name: service.name.to_string(),
            namespace: service.namespace.to_string(),
        }
    }
}

/// A release's template; `source` only when one release is shown.
#[derive(Debug, Serialize)]
pub struct TemplateBody {
    /// Its id.
    pub id: Uuid,
    /// The sha256 of its source.
    pub checksum: String,
    /// The mustache source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A release.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseBody {
    /// Its id.
    pub id: Uuid,
    /// The service released.
    pub service: ServiceRef,
    /// The version.
    pub version: String,
    /// The template.
    pub template: TemplateBody,
    /// The attributes.
    pub attributes: Attributes,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
}

impl ReleaseBody {
    /// A release without its template source, as lists show it.
    pub fn summary(release: Release) -> Self {
        Self {
            id: release.id,
            service: ServiceRef::from(&release.service),
            version: release.version.to_string(),
            template: TemplateBody {
                id: release.template.id,
                checksum: release.template.checksum.to_string(),
                source: None,
            },
            attributes: release.attributes,
            created_on: timestamp(release.created_on),
            created_by: release.created_by,
        }
    }

    /// A release with its template source.
    pub fn detail(detail: ReleaseDetail) -> Self {
        let mut body = Self::summary(detail.release);
        body.template.source = Some(detail.source.as_str().to_owned());
        body
    }
}

/// A service in the service list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBody {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// When its first release created it.
    pub created_on: String,
}

impl From<Service> for ServiceBody {
    fn from(service: Service) -> Self {
        Self {
            id: service.id,
            name: service.name.to_string(),
            namespace: service.namespace.to_string(),
            created_on: timestamp(service.created_on),
        }
    }
}

/// A service with its latest release and its latest deployment per context.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetailBody {
    /// The service.
    #[serde(flatten)]
    pub service: ServiceBody,
    /// Its newest active release, without template source; `null` if it has none.
    pub latest_release: Option<ReleaseBody>,
    /// Its newest active deployment to each context, keyed by context name, without manifest
    /// and log; `{}` if it has none.
    pub latest_deployments: BTreeMap<String, DeploymentBody>,
}

impl From<ServiceDetail> for ServiceDetailBody {
    fn from(detail: ServiceDetail) -> Self {
        Self {
            service: detail.service.into(),
            latest_release: detail.latest_release.map(ReleaseBody::summary),
            latest_deployments: detail
                .latest_deployments
                .into_iter()
                .map(|d| (d.context.to_string(), DeploymentBody::summary(d)))
                .collect(),
        }
    }
}

/// `POST /api/deployments`: a `release` id, or `service`, `namespace` and `version`; and the
/// `context`. Unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    /// The release's id.
    pub release: Option<String>,
    /// The service's name, instead of `release`.
    pub service: Option<String>,
    /// The service's namespace (default `default`), with `service`.
    pub namespace: Option<String>,
    /// The version, with `service`.
    pub version: Option<String>,
    /// The context to deploy to.
    pub context: Option<String>,
}

/// The release a deployment was made from.
#[derive(Debug, Serialize)]
pub struct DeploymentReleaseBody {
    /// Its id.
    pub id: Uuid,
    /// Its service.
    pub service: ServiceRef,
    /// Its version.
    pub version: String,
}

/// One line of a deployment's log.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLineBody {
    /// When it was written.
    pub written_on: String,
    /// `stdout` (progress) or `stderr` (errors).
    pub stream: &'static str,
    /// The line.
    pub content: String,
}

impl From<LogEntry> for LogLineBody {
    fn from(entry: LogEntry) -> Self {
        Self {
            written_on: timestamp(entry.written_on),
            stream: entry.stream.as_str(),
            content: entry.content,
        }
    }
}

/// A deployment; `manifest` and `log` only when one deployment is shown.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentBody {
    /// Its id.
    pub id: Uuid,
    /// The release deployed.
    pub release: DeploymentReleaseBody,
    /// The context deployed to.
    pub context: String,
    /// The namespace applied into.
    pub namespace: String,
    /// `pending`, `applying`, `rolling_out`, `succeeded` or `failed`.
    pub status: &'static str,
    /// The rendered manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The log, oldest line first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<LogLineBody>>,
    /// Why it failed; `null` unless it did.
    pub error: Option<String>,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
    /// When a worker started it.
    pub started_on: Option<String>,
    /// When it succeeded or failed.
    pub finished_on: Option<String>,
}

impl DeploymentBody {
    /// A deployment without manifest and log, as lists show it.
    pub fn summary(deployment: Deployment) -> Self {
        Self {
            id: deployment.id,
            release: DeploymentReleaseBody {
                id: deployment.release.id,
                service: ServiceRef::from(&deployment.release.service),
                version: deployment.release.version.to_string(),
            },
            context: deployment.context.to_string(),
            namespace: deployment.namespace.to_string(),
            status: deployment.status.as_str(),
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
    pub fn detail(detail: DeploymentDetail) -> Self {
        let mut body = Self::summary(detail.deployment);
        body.manifest = Some(detail.manifest);
        body.log = Some(detail.log.into_iter().map(LogLineBody::from).collect());
        body
    }
}

/// A context a deployment can target.
#[derive(Debug, Serialize)]
pub struct ContextBody {
    /// Its name.
    pub name: String,
    /// `kubeconfig` or `sandbox`.
    pub kind: String,
}

impl From<ContextInfo> for ContextBody {
    fn from(info: ContextInfo) -> Self {
        Self {
            name: info.name,
            kind: info.kind.to_string(),
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// How many items match, ignoring limit and offset.
    pub count: u64,
    /// The page size.
    pub limit: u32,
    /// How many items were skipped.
    pub offset: u64,
}

impl<T> PageBody<T> {
    /// Converts a domain page, mapping its items.
    pub fn from_paged<U>(paged: Paged<U>, f: impl FnMut(U) -> T) -> Self {
        let paged = paged.map(f);
        Self {
            items: paged.items,
            count: paged.count,
            limit: paged.limit,
            offset: paged.offset,
        }
    }
}
