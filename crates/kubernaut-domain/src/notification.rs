//! Notifications: the deployment events webhooks hear of, who wants which, and the deliveries
//! of the outbox.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::shorten;
use crate::{ContextName, DeploymentStatus, Pattern, ValidationError};

/// What happened to a deployment, as a webhook hears of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotificationEvent {
    /// A worker started it (not when a worker resumes it).
    Started,
    /// It succeeded.
    Succeeded,
    /// It failed.
    Failed,
    /// It was canceled.
    Canceled,
}

impl NotificationEvent {
    /// Every event, in the order a deployment meets them.
    pub const ALL: [NotificationEvent; 4] = [
        NotificationEvent::Started,
        NotificationEvent::Succeeded,
        NotificationEvent::Failed,
        NotificationEvent::Canceled,
    ];

    /// The event's name: `deployment.started`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::Started => "deployment.started",
            NotificationEvent::Succeeded => "deployment.succeeded",
            NotificationEvent::Failed => "deployment.failed",
            NotificationEvent::Canceled => "deployment.canceled",
        }
    }

    /// Parses an event's name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|event| event.as_str() == value)
            .ok_or_else(|| ValidationError::InvalidEvent(shorten(value)))
    }

    /// The event of a deployment that ended with `status`; `None` for a status that is not an
    /// end.
    pub fn ended(status: DeploymentStatus) -> Option<Self> {
        match status {
            DeploymentStatus::Succeeded => Some(NotificationEvent::Succeeded),
            DeploymentStatus::Failed => Some(NotificationEvent::Failed),
            DeploymentStatus::Canceled => Some(NotificationEvent::Canceled),
            DeploymentStatus::Pending
            | DeploymentStatus::Applying
            | DeploymentStatus::RollingOut => None,
        }
    }
}

impl fmt::Display for NotificationEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a webhook wants to hear of: some events of deployments to the contexts its patterns
/// match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The events; every event when empty.
    pub events: Vec<NotificationEvent>,
    /// Context patterns (as in grants); every context when empty.
    pub contexts: Vec<Pattern>,
}

impl Subscription {
    /// Whether `event` of a deployment to `context` is wanted.
    pub fn wants(&self, event: NotificationEvent, context: &ContextName) -> bool {
        (self.events.is_empty() || self.events.contains(&event))
            && (self.contexts.is_empty()
                || self.contexts.iter().any(|p| p.matches(context.as_str())))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: due now or after a failed attempt.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// The status as stored and shown: `pending`, `delivered`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses a stored status.
    pub fn parse(value: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// One event sent to one webhook, with its attempts so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id: the `X-Kubernaut-Delivery` header, the same on every attempt.
    pub id: Uuid,
    /// The deployment the event is of.
    pub deployment_id: Uuid,
    /// The webhook's name.
    pub webhook: String,
    /// The event.
    pub event: NotificationEvent,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i32>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_on: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_on: Option<DateTime<Utc>>,
    /// When a receiver took it.
    pub delivered_on: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(name: &str) -> ContextName {
        ContextName::parse(name).unwrap()
    }

    #[test]
    fn events_read_back_as_written() {
        for event in NotificationEvent::ALL {
            assert_eq!(NotificationEvent::parse(event.as_str()).unwrap(), event);
        }
        assert_eq!(
            NotificationEvent::parse("deployment.exploded")
                .unwrap_err()
                .to_string(),
            "event must be one of deployment.started, deployment.succeeded, deployment.failed, \
             deployment.canceled, got \"deployment.exploded\""
        );
    }

    #[test]
    fn only_terminal_statuses_end() {
        assert_eq!(
            NotificationEvent::ended(DeploymentStatus::Failed),
            Some(NotificationEvent::Failed)
        );
        assert_eq!(
            NotificationEvent::ended(DeploymentStatus::Canceled),
            Some(NotificationEvent::Canceled)
        );
        assert_eq!(NotificationEvent::ended(DeploymentStatus::RollingOut), None);
    }

    #[test]
    fn a_subscription_filters_events_and_contexts() {
        let everything = Subscription {
            events: vec![],
            contexts: vec![],
        };
        assert!(everything.wants(NotificationEvent::Started, &context("dev")));
        let prod_failures = Subscription {
            events: vec![NotificationEvent::Failed, NotificationEvent::Canceled],
            contexts: vec![
                Pattern::context("prod-*").unwrap(),
                Pattern::context("eu").unwrap(),
            ],
        };
        for (event, name, wanted) in [
            (NotificationEvent::Failed, "prod-eu", true),
            (NotificationEvent::Canceled, "eu", true),
            (NotificationEvent::Failed, "dev", false),
            (NotificationEvent::Succeeded, "prod-eu", false),
            (NotificationEvent::Failed, "eu-2", false),
        ] {
            assert_eq!(
                prod_failures.wants(event, &context(name)),
                wanted,
                "{event} to {name}"
            );
        }
    }
}
