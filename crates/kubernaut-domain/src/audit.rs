//! The audit log: one event per change, hash-chained so that altering, removing or inserting an
//! event shows. `hash` = SHA-256 hex of the previous event's `hash` (empty for the first event)
//! followed by this event's canonical JSON: its body without `hash`, keys sorted, no whitespace.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ValidationError, shorten};

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AuditAction {
    /// A release was created (not its idempotent repeat).
    #[serde(rename = "release.create")]
    ReleaseCreate,
    /// A release was deleted.
    #[serde(rename = "release.delete")]
    ReleaseDelete,
    /// A deployment was created.
    #[serde(rename = "deployment.create")]
    DeploymentCreate,
    /// A deployment was deleted.
    #[serde(rename = "deployment.delete")]
    DeploymentDelete,
    /// A deployment was canceled.
    #[serde(rename = "deployment.cancel")]
    DeploymentCancel,
    /// A token was created.
    #[serde(rename = "token.create")]
    TokenCreate,
    /// A token was revoked.
    #[serde(rename = "token.revoke")]
    TokenRevoke,
    /// A valid token was refused an action (a 403).
    #[serde(rename = "access.denied")]
    AccessDenied,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 8] = [
        AuditAction::ReleaseCreate,
        AuditAction::ReleaseDelete,
        AuditAction::DeploymentCreate,
        AuditAction::DeploymentDelete,
        AuditAction::DeploymentCancel,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::AccessDenied,
    ];

    /// The action's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ReleaseCreate => "release.create",
            AuditAction::ReleaseDelete => "release.delete",
            AuditAction::DeploymentCreate => "deployment.create",
            AuditAction::DeploymentDelete => "deployment.delete",
            AuditAction::DeploymentCancel => "deployment.cancel",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::AccessDenied => "access.denied",
        }
    }

    /// Parses an action name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| ValidationError::InvalidAuditAction(shorten(value)))
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to append: what happened, to what, by whom, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    /// The token name (or [`crate::SERVER_ACTOR`]) that made the change.
    pub actor: String,
    /// What happened.
    pub action: AuditAction,
    /// The kind of record: `release`, `deployment`, `token`, `audit`.
    pub resource_type: &'static str,
    /// The record's id, where there is one.
    pub resource_id: Option<String>,
    /// The namespace concerned, if any.
    pub namespace: Option<String>,
    /// The context concerned, if any.
    pub context: Option<String>,
    /// The caller's address.
    pub remote_addr: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    /// More about it (service, version, grants, the refusal); never a secret.
    pub details: Map<String, Value>,
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// When it happened, in milliseconds (what the body shows is what is hashed).
    #[serde(serialize_with = "millis")]
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// The kind of record.
    pub resource_type: String,
    /// The record's id.
    pub resource_id: Option<String>,
    /// The namespace concerned.
    pub namespace: Option<String>,
    /// The context concerned.
    pub context: Option<String>,
    /// The caller's address.
    pub remote_addr: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// More about it.
    pub details: Map<String, Value>,
    /// The chain hash, over the previous event's hash and this event.
    #[serde(skip)]
    pub hash: String,
}

fn millis<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `at` truncated to milliseconds, as events keep it.
pub fn audit_time(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

impl AuditEvent {
    /// Builds the event `new` as appended after `previous_hash` with this id and time, hash
    /// included.
    pub fn chained(new: NewAuditEvent, id: Uuid, at: DateTime<Utc>, previous_hash: &str) -> Self {
        let mut event = AuditEvent {
            id,
            at: audit_time(at),
            actor: new.actor,
            action: new.action,
            resource_type: new.resource_type.to_owned(),
            resource_id: new.resource_id,
            namespace: new.namespace,
            context: new.context,
            remote_addr: new.remote_addr,
            request_id: new.request_id,
            details: new.details,
            hash: String::new(),
        };
        event.hash = event.chain_hash(previous_hash);
        event
    }

    /// The body without `hash`, keys sorted, no whitespace.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        sorted(value).to_string()
    }

    /// What this event's hash must be after `previous_hash`.
    pub fn chain_hash(&self, previous_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(previous_hash.as_bytes());
        hasher.update(self.canonical_json().as_bytes());
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `value` with every object's keys in sorted order, whatever map serde_json was built with.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Checks events, oldest first, against the chain.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    previous_hash: String,
    events: u64,
    first_bad: Option<Uuid>,
}

impl ChainVerifier {
    /// Checks the next event; after the first bad one, later events are only counted.
    pub fn push(&mut self, event: &AuditEvent) {
        self.events += 1;
        if self.first_bad.is_none() && event.chain_hash(&self.previous_hash) != event.hash {
            self.first_bad = Some(event.id);
        }
        self.previous_hash.clone_from(&event.hash);
    }

    /// The events checked, and the first whose hash does not match the chain.
    pub fn finish(self) -> (u64, Option<Uuid>) {
        (self.events, self.first_bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_event(actor: &str) -> NewAuditEvent {
        let mut details = Map::new();
        details.insert("version".into(), "42".into());
        details.insert("service".into(), "hello-world".into());
        NewAuditEvent {
            actor: actor.into(),
            action: AuditAction::ReleaseCreate,
            resource_type: "release",
            resource_id: Some("r1".into()),
            namespace: Some("default".into()),
            context: None,
            remote_addr: Some("127.0.0.1".into()),
            request_id: None,
            details,
        }
    }

    fn chain(n: usize) -> Vec<AuditEvent> {
        let mut previous = String::new();
        (0..n)
            .map(|i| {
                let event = AuditEvent::chained(
                    new_event(&format!("actor-{i}")),
                    Uuid::now_v7(),
                    Utc::now(),
                    &previous,
                );
                previous.clone_from(&event.hash);
                event
            })
            .collect()
    }

    fn verify(events: &[AuditEvent]) -> (u64, Option<Uuid>) {
        let mut verifier = ChainVerifier::default();
        events.iter().for_each(|e| verifier.push(e));
        verifier.finish()
    }

    #[test]
    fn canonical_json_sorts_keys_and_leaves_out_the_hash() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:30.123456Z")
            .unwrap()
            .to_utc();
        let event = AuditEvent::chained(new_event("ci"), Uuid::nil(), at, "");
        assert_eq!(
            event.canonical_json(),
            r#"{"action":"release.create","actor":"ci","at":"2026-11-22T10:15:30.123Z","context":null,"details":{"service":"hello-world","version":"42"},"id":"00000000-0000-0000-0000-000000000000","namespace":"default","remoteAddr":"127.0.0.1","requestId":null,"resourceId":"r1","resourceType":"release"}"#
        );
        let expected: String = Sha256::digest(event.canonical_json().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(event.hash, expected);
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(5);
        assert_eq!(verify(&events), (5, None));
        assert_eq!(verify(&[]), (0, None));
    }

    #[test]
    fn an_altered_event_is_named() {
        let mut events = chain(5);
        events[2].actor = "someone-else".into();
        assert_eq!(verify(&events), (5, Some(events[2].id)));
    }

    #[test]
    fn a_removed_event_breaks_the_next_one() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(verify(&events), (4, Some(events[1].id)));
    }

    #[test]
    fn a_rehashed_event_breaks_the_next_one() {
        let mut events = chain(4);
        events[1].details.insert("version".into(), "43".into());
        events[1].hash = events[1].chain_hash(&events[0].hash);
        assert_eq!(verify(&events), (4, Some(events[2].id)));
    }

    #[test]
    fn actions_parse_as_spelled() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Ok(action));
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                Value::from(action.as_str())
            );
        }
        assert!(AuditAction::parse("release.created").is_err());
    }
}
