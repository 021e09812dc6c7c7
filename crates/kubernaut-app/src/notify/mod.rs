//! Notifications: the configured webhooks (which events each hears of, its payload and
//! signature) and the sender that delivers the outbox's deliveries to them. The outbox itself
//! is in the store: a delivery is written in the transaction that changes the deployment.

mod sender;
mod webhooks;

pub use sender::{Sender, SenderOptions};
pub use webhooks::{Format, Webhook, WebhookConfig, WebhookError, Webhooks};
