//! Notifications: the payload a webhook receives, the configured webhooks, and a deployment's
//! deliveries.

use kubernaut_domain::{DeploymentDetail, NotificationEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DeploymentBody, LogLineBody};

/// How many of the last log lines a notification carries.
pub const LOG_TAIL_LINES: usize = 20;

/// What a webhook receives (`format = "json"`): the event, the deployment as it was when the
/// event happened (without manifest and log), and the last lines of its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationBody {
    /// `deployment.started`, `deployment.succeeded`, `deployment.failed` or
    /// `deployment.canceled`.
    pub event: String,
    /// The deployment.
    pub deployment: DeploymentBody,
    /// Its last log lines, oldest first (at most [`LOG_TAIL_LINES`]).
    pub log_tail: Vec<LogLineBody>,
}

impl NotificationBody {
    /// The payload of `event` of `detail`.
    pub fn new(event: NotificationEvent, detail: &DeploymentDetail) -> Self {
        let skip = detail.log.len().saturating_sub(LOG_TAIL_LINES);
        NotificationBody {
            event: event.as_str().to_owned(),
            deployment: DeploymentBody::summary(detail.deployment.clone()),
            log_tail: detail.log[skip..]
                .iter()
                .cloned()
                .map(LogLineBody::from)
                .collect(),
        }
    }
}

/// A configured webhook, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    /// Its name.
    pub name: String,
    /// Where it is sent: scheme, host and port only (a path may hold a secret, as Slack's do).
    pub url: String,
    /// The events it hears of.
    pub events: Vec<String>,
    /// The context patterns it hears of.
    pub contexts: Vec<String>,
    /// `json` or `slack`.
    pub format: String,
    /// The names of the extra headers it sends (their values are not shown).
    pub headers: Vec<String>,
}

/// The configured webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhooksBody {
    /// The webhooks, in configuration order.
    pub items: Vec<WebhookBody>,
    /// How many.
    pub count: usize,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptBody {
    /// When it was made.
    pub attempted_on: String,
    /// The receiver's HTTP status; `null` when it could not be reached or did not answer in
    /// time.
    pub status: Option<i32>,
    /// Why it failed; `null` when the receiver took it.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// One event of a deployment sent to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryBody {
    /// The delivery id (`X-Kubernaut-Delivery`), the same on every attempt.
    pub id: Uuid,
    /// The webhook's name.
    pub webhook: String,
    /// The event.
    pub event: String,
    /// `pending`, `delivered` or `failed` (every attempt failed).
    pub status: String,
    /// How many attempts were made.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_on: String,
    /// When the next attempt is due, while pending.
    pub next_attempt_on: Option<String>,
    /// When the receiver took it.
    pub delivered_on: Option<String>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<AttemptBody>,
}

/// A deployment's deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveriesBody {
    /// The deliveries, oldest first.
    pub items: Vec<DeliveryBody>,
    /// How many.
    pub count: usize,
}
