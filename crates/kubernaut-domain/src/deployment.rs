//! Deployments: a release rendered for a context, applied, and watched until it rolled out.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ValidationError, shorten};
use crate::{Namespace, Service, Version};

/// The name of a deployment target, as a kubeconfig context names a cluster
/// (`kubectl --context`): 1..=253 characters, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ContextName(String);

impl ContextName {
    /// The longest context name accepted, in characters.
    pub const MAX_LEN: usize = 253;

    /// Validates a context name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let valid = !value.is_empty()
            && value.chars().count() <= Self::MAX_LEN
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::InvalidContext(shorten(value)))
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContextName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a deployment stands. `Succeeded`, `Failed` and `Canceled` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Stored, waiting for a worker.
    Pending,
    /// A worker is applying its objects.
    Applying,
    /// Applied; its workloads are being watched until rolled out.
    RollingOut,
    /// Every object applied and every workload rolled out.
    Succeeded,
    /// An object was rejected or a workload did not roll out; see the error.
    Failed,
    /// Stopped on request: at once while pending, else before its next object or rollout
    /// check (objects already applied stay).
    Canceled,
}

impl DeploymentStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [DeploymentStatus; 6] = [
        DeploymentStatus::Pending,
        DeploymentStatus::Applying,
        DeploymentStatus::RollingOut,
        DeploymentStatus::Succeeded,
        DeploymentStatus::Failed,
        DeploymentStatus::Canceled,
    ];

    /// The status as the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Pending => "pending",
            DeploymentStatus::Applying => "applying",
            DeploymentStatus::RollingOut => "rolling_out",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Canceled => "canceled",
        }
    }

    /// Parses the API spelling.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| ValidationError::InvalidStatus(shorten(value)))
    }

    /// Whether the deployment has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::Canceled
        )
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stream a log line belongs to: progress, or what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Progress.
    Stdout,
    /// Errors.
    Stderr,
}

impl Stream {
    /// The stream as the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// Parses the stored spelling; anything else is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// One line of a deployment's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When it was written.
    pub written_on: DateTime<Utc>,
    /// Progress or error.
    pub stream: Stream,
    /// The line.
    pub content: String,
}

/// The release a deployment was made from, as deployments show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRef {
    /// The release's id.
    pub id: Uuid,
    /// Its service.
    pub service: Service,
    /// Its version.
    pub version: Version,
}

/// A release rendered for a context and shipped to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The deployment's id.
    pub id: Uuid,
    /// The release deployed.
    pub release: ReleaseRef,
    /// The context deployed to.
    pub context: ContextName,
    /// The namespace the objects are applied into (the service's).
    pub namespace: Namespace,
    /// Where it stands.
    pub status: DeploymentStatus,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When it was created.
    pub created_on: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When a worker started it.
    pub started_on: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_on: Option<DateTime<Utc>>,
    /// Whether it puts back an earlier release (asked for, or automatic).
    pub rollback: bool,
    /// Whether a failure rolls it back by itself.
    pub auto_rollback: bool,
    /// The automatic rollback created when it failed.
    pub rolled_back_by: Option<Uuid>,
    /// Whether members of the service's ApplySet missing from its manifest are deleted.
    pub prune: bool,
}

/// A deployment with its manifest and log, as `GET /api/deployments/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentDetail {
    /// The deployment.
    pub deployment: Deployment,
    /// The rendered manifest, stored before anything was applied.
    pub manifest: String,
    /// Its log, oldest line first.
    pub log: Vec<LogEntry>,
}

/// A validated request to store a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployment {
    /// The release to deploy.
    pub release_id: Uuid,
    /// The target context.
    pub context: ContextName,
    /// The rendered manifest.
    pub manifest: String,
    /// Who creates it.
    pub created_by: String,
    /// Whether it puts back an earlier release.
    pub rollback: bool,
    /// Whether a failure rolls it back by itself.
    pub auto_rollback: bool,
    /// Whether members of the service's ApplySet missing from the manifest are deleted after
    /// a successful rollout.
    pub prune: bool,
}

/// Which release a rollback of a lane (one service, one context) must not pick, given how the
/// newest ended deployment of the lane ended (`None` when none ended): like `kubectl rollout
/// undo`, after a success the rollback goes to an earlier release than the one deployed; after
/// a failure or a cancel it goes to the newest release that succeeded, which may be that one.
pub fn rollback_excludes(newest_ended: Option<(DeploymentStatus, Uuid)>) -> Option<Uuid> {
    match newest_ended {
        Some((DeploymentStatus::Succeeded, release)) => Some(release),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_are_kubeconfig_names_without_whitespace() {
        for ok in [
            "sandbox",
            "prod-eu",
            "arn:aws:eks:eu-west-1:1:cluster/prod",
            "gke_p_z_c",
        ] {
            assert_eq!(ContextName::parse(ok).unwrap().as_str(), ok);
        }
        let long = "c".repeat(254);
        for bad in ["", "a b", "a\tb", "a\nb", long.as_str()] {
            let error = ContextName::parse(bad).unwrap_err();
            assert!(error.to_string().starts_with("context must be"), "{error}");
        }
    }

    #[test]
    fn a_rollback_after_a_success_skips_its_release_and_after_a_failure_does_not() {
        let release = Uuid::now_v7();
        assert_eq!(
            rollback_excludes(Some((DeploymentStatus::Succeeded, release))),
            Some(release)
        );
        for ended in [DeploymentStatus::Failed, DeploymentStatus::Canceled] {
            assert_eq!(rollback_excludes(Some((ended, release))), None);
        }
        assert_eq!(rollback_excludes(None), None);
    }

    #[test]
    fn statuses_round_trip_and_three_are_terminal() {
        for status in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(status.as_str()), Ok(status));
        }
        let terminal: Vec<_> = DeploymentStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                DeploymentStatus::Succeeded,
                DeploymentStatus::Failed,
                DeploymentStatus::Canceled
            ]
        );
        assert_eq!(
            DeploymentStatus::parse("done").unwrap_err().to_string(),
            "status must be one of pending, applying, rolling_out, succeeded, failed, canceled, \
             got \"done\""
        );
    }

    #[test]
    fn streams_parse_their_spelling_only() {
        assert_eq!(Stream::parse("stdout"), Some(Stream::Stdout));
        assert_eq!(Stream::parse("stderr"), Some(Stream::Stderr));
        assert_eq!(Stream::parse("STDOUT"), None);
    }
}
