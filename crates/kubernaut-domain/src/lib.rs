//! Kubernaut's domain: entities and value types that cannot hold invalid values.
//!
//! This crate does no I/O and depends on no other workspace crate, so that any Rust service can
//! link it alone. Every constructor that takes outside input validates it and returns a
//! [`ValidationError`] whose message names the field and the problem.

mod access;
mod applyset;
mod attributes;
mod audit;
mod deployment;
mod entities;
mod error;
mod health;
mod names;
mod notification;
mod page;
mod rollout;
mod template;
mod token;

pub use access::{Action, Denial, Grant, Grants, Pattern, Role, Visibility};
pub use applyset::{
    APPLYSET_ADDITIONAL_NAMESPACES_ANNOTATION, APPLYSET_CONTAINS_GROUP_KINDS_ANNOTATION,
    APPLYSET_ID_LABEL, APPLYSET_PART_OF_LABEL, APPLYSET_TOOL, APPLYSET_TOOLING,
    APPLYSET_TOOLING_ANNOTATION, GroupKind, MemberKey, SetMember, group_kinds_annotation,
    parse_group_kinds, prunable,
};
pub use attributes::{
    AttributeName, AttributeValue, Attributes, BUILTIN_CONTEXT, BUILTIN_NAMESPACE, BUILTIN_SERVICE,
    BUILTIN_VERSION, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES, VALIDATION_CONTEXT,
};
pub use audit::{AuditAction, AuditEvent, ChainVerifier, NewAuditEvent, audit_time};
pub use deployment::{
    ContextName, Deployment, DeploymentDetail, DeploymentStatus, LogEntry, NewDeployment,
    ReleaseRef, Stream, rollback_excludes,
};
pub use entities::{NewRelease, Release, ReleaseDetail, Service, TemplateRef};
pub use error::ValidationError;
pub use health::{
    ContainerState, Health, PodState, StatusCondition, claim_health, deleting_health, job_health,
    pod_health, rollout_health, service_health,
};
pub use names::{Namespace, ServiceName, Version};
pub use notification::{Delivery, DeliveryStatus, NotificationEvent, Subscription};
pub use page::{DEFAULT_LIMIT, MAX_LIMIT, Page, Paged};
pub use rollout::{
    ContainerWaiting, DaemonSetState, DeploymentState, Rollout, StatefulSetState,
    daemon_set_rollout, deployment_rollout, stateful_set_rollout, stuck_container,
};
pub use template::{Checksum, MAX_TEMPLATE_BYTES, TemplateSource};
pub use token::{
    BOOTSTRAP_TOKEN_NAME, ExpiresInDays, NewToken, SERVER_ACTOR, SecretHash, TOKEN_PREFIX, Token,
    TokenName, validate_bootstrap_secret,
};
