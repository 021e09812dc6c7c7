//! The bodies of kubernaut's REST API (see `docs/api.md`), as the server writes them and clients
//! read them: camelCase fields, RFC 3339 UTC timestamps (as strings, exactly as sent), ids as
//! UUIDs. Plain data with serde, so that a client links this crate and `kubernaut-domain` only.

mod audit;
mod context;
mod deployment;
mod error;
mod notification;
mod page;
mod release;
mod safer;
mod service;
mod token;

pub use audit::{AuditEventBody, AuditVerifyBody};
pub use context::ContextBody;
pub use deployment::{
    CreateDeployment, DeploymentBody, DeploymentReleaseBody, LogLineBody, timestamp,
};
pub use error::ErrorBody;
pub use kubernaut_domain::{DeploymentStatus, Stream};
pub use notification::{
    AttemptBody, DeliveriesBody, DeliveryBody, LOG_TAIL_LINES, NotificationBody, WebhookBody,
    WebhooksBody,
};
pub use page::PageBody;
pub use release::{CreateRelease, ReleaseBody, TemplateBody};
pub use safer::{DryRunBody, DryRunObjectBody, LiveBody, LiveObjectBody};
pub use service::{ServiceBody, ServiceDetailBody, ServiceRef};
pub use token::{CreateToken, GrantBody, TokenBody, WhoamiBody};
