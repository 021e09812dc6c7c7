use chrono::{DateTime, SecondsFormat, Utc};
use kubernaut_domain::{Deployment, DeploymentDetail, LogEntry, Service};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DeploymentStatus, ServiceRef, Stream};

/// A time as the API writes it: RFC 3339 UTC with milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<&Service> for ServiceRef {
    fn from(service: &Service) -> Self {
        ServiceRef {
            id: service.id,
            name: service.name.to_string(),
            namespace: service.namespace.to_string(),
        }
    }
}

impl From<LogEntry> for LogLineBody {
    fn from(entry: LogEntry) -> Self {
        LogLineBody {
            written_on: timestamp(entry.written_on),
            stream: entry.stream,
            content: entry.content,
        }
    }
}

impl DeploymentBody {
    /// A deployment without manifest and log, as lists show it.
    pub fn summary(deployment: Deployment) -> Self {
        DeploymentBody {
            id: deployment.id,
            release: DeploymentReleaseBody {
                id: deployment.release.id,
                service: ServiceRef::from(&deployment.release.service),
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
    pub fn detail(detail: DeploymentDetail) -> Self {
        let mut body = Self::summary(detail.deployment);
        body.manifest = Some(detail.manifest);
        body.log = Some(detail.log.into_iter().map(LogLineBody::from).collect());
        body
    }
}

/// `POST /api/deployments`: a `release` id, or `service`, `namespace` and `version`, or
/// `service`, `namespace` and `rollback: true`; and the `context`. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    /// The release's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The service's name, instead of `release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service's namespace (default `default`), with `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The version, with `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The context to deploy to.
    pub context: Option<String>,
    /// `true` for a rollback: deploy the last good release of `service` to `context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<bool>,
    /// `true` to roll back by itself when the deployment fails.
    #[serde(
        default,
        rename = "autoRollback",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_rollback: Option<bool>,
    /// `false` to keep objects of the service that the manifest no longer holds (default
    /// `true`: they are deleted after a successful rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
}

/// The release a deployment was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentReleaseBody {
    /// Its id.
    pub id: Uuid,
    /// Its service.
    pub service: ServiceRef,
    /// Its version.
    pub version: String,
}

/// One line of a deployment's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogLineBody {
    /// When it was written.
    pub written_on: String,
    /// `stdout` (progress) or `stderr` (errors).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "stdout"))]
    pub stream: Stream,
    /// The line.
    pub content: String,
}

/// A deployment; `manifest` and `log` only when one deployment is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Where it stands.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "pending"))]
    pub status: DeploymentStatus,
    /// The rendered manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The log, oldest line first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<LogLineBody>>,
    /// Why it failed; `null` unless it did.
    pub error: Option<String>,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
    /// When a worker started it.
    pub started_on: Option<String>,
    /// When it ended.
    pub finished_on: Option<String>,
    /// Whether it puts back an earlier release.
    #[serde(default)]
    pub rollback: bool,
    /// Whether a failure rolls it back by itself.
    #[serde(default)]
    pub auto_rollback: bool,
    /// The automatic rollback created when it failed.
    #[serde(default)]
    pub rolled_back_by: Option<Uuid>,
    /// Whether objects of the service that the manifest no longer holds are deleted.
    #[serde(default = "pruned")]
    pub prune: bool,
}

fn pruned() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_reads_back_as_written() {
        let json = serde_json::json!({
            "id": "018f0000-0000-7000-8000-000000000001",
            "release": {
                "id": "018f0000-0000-7000-8000-000000000002",
                "service": {"id": "018f0000-0000-7000-8000-000000000003", "name": "hello", "namespace": "default"},
                "version": "42"
            },
            "context": "sandbox",
            "namespace": "default",
            "status": "rolling_out",
            "log": [{"writtenOn": "2026-11-22T10:15:30.123Z", "stream": "stderr", "content": "x"}],
            "error": null,
            "createdOn": "2026-11-22T10:15:30.123Z",
            "createdBy": "ci",
            "startedOn": null,
            "finishedOn": null,
            "rollback": true,
            "autoRollback": false,
            "rolledBackBy": "018f0000-0000-7000-8000-000000000004",
            "prune": false
        });
        let body: DeploymentBody = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(body.status, DeploymentStatus::RollingOut);
        assert_eq!(body.log.as_ref().unwrap()[0].stream, Stream::Stderr);
        assert!(body.manifest.is_none());
        assert!(body.rollback && !body.prune);
        assert_eq!(serde_json::to_value(&body).unwrap(), json);
    }
}
