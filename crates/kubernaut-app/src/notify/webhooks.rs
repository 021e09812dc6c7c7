//! The configured webhooks: validated once at start-up, they decide which deployment events
//! each hears of, make the payload it is sent, and sign it.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use hmac::{Hmac, Mac};
use kubernaut_domain::{ContextName, DeploymentDetail, NotificationEvent, Pattern, Subscription};
use kubernaut_store::{NewDelivery, Subscribers};
use kubernaut_wire::{NotificationBody, WebhookBody};
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;
use thiserror::Error;

/// A webhook as configured (`[[notifications.webhooks]]`), not yet checked.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Its name, unique among the webhooks.
    pub name: String,
    /// Where events are posted: an `http` or `https` URL.
    pub url: String,
    /// The events it hears of; all when empty.
    pub events: Vec<String>,
    /// Context patterns as in grants (`*`, a name, `prefix*`); all contexts when empty.
    pub contexts: Vec<String>,
    /// The key of the `X-Kubernaut-Signature-256` HMAC; required unless the format is `slack`.
    pub secret: Option<String>,
    /// `json` (the default) or `slack`.
    pub format: Option<String>,
    /// Extra headers sent with every delivery (e.g. a receiver's own token).
    pub headers: BTreeMap<String, String>,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("events", &self.events)
            .field("contexts", &self.contexts)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A webhook entry that cannot be used; the message names the entry and the problem.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("notifications.webhooks[{index}] ({name:?}): {reason}")]
pub struct WebhookError {
    /// The entry's position, from 0.
    pub index: usize,
    /// Its name, as given.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

/// What a webhook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON payload of `docs/api.md` (Notifications).
    Json,
    /// A Slack-compatible `{"text": ...}` summary.
    Slack,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
        }
    }
}

/// A checked webhook.
pub struct Webhook {
    name: String,
    url: Url,
    subscription: Subscription,
    secret: Option<String>,
    format: Format,
    headers: HeaderMap,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("url", &origin(&self.url))
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    fn parse(config: &WebhookConfig) -> Result<Self, String> {
        let name = config.name.trim();
        if name.is_empty() || name.len() > 63 || name.chars().any(char::is_whitespace) {
            return Err("name must be 1 to 63 characters without whitespace".to_owned());
        }
        let url = Url::parse(&config.url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| "url must be an http or https URL".to_owned())?;
        let events = config
            .events
            .iter()
            .map(|event| NotificationEvent::parse(event).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let contexts = config
            .contexts
            .iter()
            .map(|pattern| Pattern::context(pattern).map_err(|e| format!("contexts: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let format = match config.format.as_deref() {
            None | Some("json") => Format::Json,
            Some("slack") => Format::Slack,
            Some(other) => return Err(format!("format must be json or slack, got {other:?}")),
        };
        let secret = config.secret.clone().filter(|secret| !secret.is_empty());
        if secret.is_none() && format == Format::Json {
            return Err(
                "secret is required: receivers verify X-Kubernaut-Signature-256 with it".to_owned(),
            );
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|_| format!("headers: {name:?} is not a header name"))?;
            if header.as_str().starts_with("x-kubernaut-")
                || header == reqwest::header::CONTENT_TYPE
            {
                return Err(format!("headers: {name} is set by kubernaut"));
            }
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("headers: the value of {name} is not a header value"))?;
            headers.insert(header, value);
        }
        Ok(Webhook {
            name: name.to_owned(),
            url,
            subscription: Subscription { events, contexts },
            secret,
            format,
            headers,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is posted.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Its extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// `sha256=<hex HMAC-SHA256 of payload>` with its secret, if it has one.
    pub fn signature(&self, payload: &[u8]) -> Option<String> {
        let secret = self.secret.as_ref()?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
        mac.update(payload);
        Some(format!("sha256={:x}", mac.finalize().into_bytes()))
    }

    fn payload(&self, event: NotificationEvent, detail: &DeploymentDetail) -> String {
        let value = match self.format {
            Format::Json => serde_json::to_value(NotificationBody::new(event, detail)),
            Format::Slack => Ok(serde_json::json!({ "text": slack_text(event, detail) })),
        };
        value.map_or_else(|_| String::from("{}"), |value| value.to_string())
    }

    /// As `GET /api/webhooks` shows it: no secret, no path, no header values.
    pub fn body(&self) -> WebhookBody {
        WebhookBody {
            name: self.name.clone(),
            url: origin(&self.url),
            events: if self.subscription.events.is_empty() {
                NotificationEvent::ALL.to_vec()
            } else {
                self.subscription.events.clone()
            }
            .into_iter()
            .map(|event| event.as_str().to_owned())
            .collect(),
            contexts: if self.subscription.contexts.is_empty() {
                vec!["*".to_owned()]
            } else {
                self.subscription
                    .contexts
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            },
            format: self.format.as_str().to_owned(),
            headers: self.headers.keys().map(|name| name.to_string()).collect(),
        }
    }
}

/// `scheme://host[:port]` of a URL: what may be shown of it.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Escapes `&`, `<` and `>` as Slack's text format wants.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line a person reads in a chat: what happened to which version where, and why it failed.
fn slack_text(event: NotificationEvent, detail: &DeploymentDetail) -> String {
    let deployment = &detail.deployment;
    let what = format!(
        "{} {} to {} (namespace {})",
        deployment.release.service.name,
        deployment.release.version,
        deployment.context,
        deployment.namespace
    );
    let line = match event {
        NotificationEvent::Started => format!("Deploying {what}, by {}", deployment.created_by),
        NotificationEvent::Succeeded => format!("Deployed {what}, by {}", deployment.created_by),
        NotificationEvent::Failed => format!(
            "Deployment of {what} failed: {}",
            deployment.error.as_deref().unwrap_or("no error recorded")
        ),
        NotificationEvent::Canceled => format!("Deployment of {what} was canceled"),
    };
    slack_escape(&format!("kubernaut: {line} (deployment {})", deployment.id))
}

/// Every configured webhook.
#[derive(Debug, Default)]
pub struct Webhooks(Vec<Webhook>);

impl Webhooks {
    /// Checks every entry: the first bad one is the error.
    pub fn new(configs: &[WebhookConfig]) -> Result<Self, WebhookError> {
        let mut names = HashSet::new();
        let mut webhooks = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let error = |reason: String| WebhookError {
                index,
                name: config.name.clone(),
                reason,
            };
            let webhook = Webhook::parse(config).map_err(error)?;
            if !names.insert(webhook.name.clone()) {
                return Err(error("name is used by an earlier webhook".to_owned()));
            }
            webhooks.push(webhook);
        }
        Ok(Self(webhooks))
    }

    /// The webhook of this name.
    pub fn get(&self, name: &str) -> Option<&Webhook> {
        self.0.iter().find(|webhook| webhook.name == name)
    }

    /// Every webhook, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Webhook> {
        self.0.iter()
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Subscribers for Webhooks {
    fn wants(&self, event: NotificationEvent, context: &ContextName) -> bool {
        self.0
            .iter()
            .any(|webhook| webhook.subscription.wants(event, context))
    }

    fn deliveries(&self, event: NotificationEvent, detail: &DeploymentDetail) -> Vec<NewDelivery> {
        self.0
            .iter()
            .filter(|webhook| {
                webhook
                    .subscription
                    .wants(event, &detail.deployment.context)
            })
            .map(|webhook| NewDelivery {
                webhook: webhook.name.clone(),
                payload: webhook.payload(event, detail),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
