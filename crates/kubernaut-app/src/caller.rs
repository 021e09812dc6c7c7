//! Who makes a request: an authenticated token, and where the request came from.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kubernaut_domain::{AuditAction, Grants, NewAuditEvent, Token};
use serde_json::{Map, Value};
use uuid::Uuid;

/// An authenticated token, as the operations see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's id.
    pub token_id: Uuid,
    /// The token's name: what `createdBy`, `deletedBy` and audit events record.
    pub name: String,
    /// What it may do.
    pub grants: Grants,
    /// When it expires; `None` for never.
    pub expires_on: Option<DateTime<Utc>>,
}

impl From<&Token> for Principal {
    fn from(token: &Token) -> Self {
        Self {
            token_id: token.id,
            name: token.name.to_string(),
            grants: token.grants.clone(),
            expires_on: token.expires_on,
        }
    }
}

/// The caller of an operation: a principal, and the request's origin for the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub principal: Arc<Principal>,
    /// From which address.
    pub remote_addr: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
}

impl Caller {
    /// The token's name.
    pub fn name(&self) -> &str {
        &self.principal.name
    }

    /// The token's grants.
    pub fn grants(&self) -> &Grants {
        &self.principal.grants
    }

    /// An audit event by this caller.
    pub(crate) fn event(&self, action: AuditAction, resource_type: &'static str) -> EventBuilder {
        EventBuilder(NewAuditEvent {
            actor: self.principal.name.clone(),
            action,
            resource_type,
            resource_id: None,
            namespace: None,
            context: None,
            remote_addr: self.remote_addr.clone(),
            request_id: self.request_id.clone(),
            details: Map::new(),
        })
    }
}

/// An audit event by the server itself (actor `kubernaut-server`).
pub(crate) fn server_event(action: AuditAction, resource_type: &'static str) -> EventBuilder {
    EventBuilder(NewAuditEvent {
        actor: kubernaut_domain::SERVER_ACTOR.to_owned(),
        action,
        resource_type,
        resource_id: None,
        namespace: None,
        context: None,
        remote_addr: None,
        request_id: None,
        details: Map::new(),
    })
}

/// Fills in an audit event.
pub(crate) struct EventBuilder(NewAuditEvent);

impl EventBuilder {
    /// The record's id.
    pub(crate) fn resource(mut self, id: impl ToString) -> Self {
        self.0.resource_id = Some(id.to_string());
        self
    }

    /// The namespace concerned.
    pub(crate) fn namespace(mut self, namespace: impl ToString) -> Self {
        self.0.namespace = Some(namespace.to_string());
        self
    }

    /// The context concerned.
    pub(crate) fn context(mut self, context: impl ToString) -> Self {
        self.0.context = Some(context.to_string());
        self
    }

    /// One detail.
    pub(crate) fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.details.insert(key.to_owned(), value.into());
        self
    }

    /// The event.
    pub(crate) fn build(self) -> NewAuditEvent {
        self.0
    }
}
