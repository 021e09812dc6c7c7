//! The audit log: appending to the one hash chain, listing with filters, verifying.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use kubernaut_domain::{
    AuditAction, AuditEvent, ChainVerifier, NewAuditEvent, Page, Paged, audit_time,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::models::{utc, uuid};
use crate::schema::{audit_events, audit_head};

/// Exact-match filters of the audit log, and a time range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events by this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only events on this kind of record.
    pub resource_type: Option<String>,
    /// Only events on this record.
    pub resource_id: Option<String>,
    /// Only events in this namespace.
    pub namespace: Option<String>,
    /// Only events in this context.
    pub context: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events at or before this time.
    pub until: Option<DateTime<Utc>>,
}

/// What verifying the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked.
    pub events: u64,
    /// The first event whose hash does not match the chain.
    pub first_bad_event: Option<Uuid>,
    /// Whether the chain's head agrees with its last event (no event was removed from the end).
    pub head_matches: bool,
}

impl Verification {
    /// Whether the chain is intact.
    pub fn ok(&self) -> bool {
        self.first_bad_event.is_none() && self.head_matches
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    seq: i64,
    id: String,
    at: NaiveDateTime,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    namespace: Option<String>,
    context: Option<String>,
    remote_addr: Option<String>,
    request_id: Option<String>,
    details: String,
    hash: String,
}

impl EventRow {
    fn into_domain(self) -> Result<AuditEvent, StoreError> {
        let details: Map<String, Value> = serde_json::from_str(&self.details)
            .map_err(|e| StoreError::Corrupt(format!("audit event {} details: {e}", self.id)))?;
        Ok(AuditEvent {
            id: uuid(&self.id)?,
            at: utc(self.at),
            actor: self.actor,
            action: AuditAction::parse(&self.action)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            namespace: self.namespace,
            context: self.context,
            remote_addr: self.remote_addr,
            request_id: self.request_id,
            details,
            hash: self.hash,
        })
    }
}

/// Appends `new` to the chain. The head row is updated first: that takes its lock until the
/// transaction ends, so that appends from every connection and replica form one chain.
pub(crate) fn append(
    conn: &mut DbConnection,
    new: NewAuditEvent,
) -> Result<AuditEvent, StoreError> {
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .execute(conn)?;
    let (seq, previous) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first::<(i64, String)>(conn)?;
    let event = AuditEvent::chained(new, Uuid::now_v7(), Utc::now(), &previous);
    diesel::insert_into(audit_events::table)
        .values(EventRow {
            seq,
            id: event.id.to_string(),
            at: audit_time(event.at).naive_utc(),
            actor: event.actor.clone(),
            action: event.action.as_str().to_owned(),
            resource_type: event.resource_type.clone(),
            resource_id: event.resource_id.clone(),
            namespace: event.namespace.clone(),
            context: event.context.clone(),
            remote_addr: event.remote_addr.clone(),
            request_id: event.request_id.clone(),
            details: Value::Object(event.details.clone()).to_string(),
            hash: event.hash.clone(),
        })
        .execute(conn)?;
    diesel::update(audit_head::table.find(1))
        .set(audit_head::hash.eq(&event.hash))
        .execute(conn)?;
    Ok(event)
}

pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: Page,
) -> Result<Paged<AuditEvent>, StoreError> {
    let filtered = || {
        let mut query = audit_events::table.into_boxed();
        if let Some(actor) = &filter.actor {
            query = query.filter(audit_events::actor.eq(actor.clone()));
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_events::action.eq(action.as_str()));
        }
        if let Some(resource_type) = &filter.resource_type {
            query = query.filter(audit_events::resource_type.eq(resource_type.clone()));
        }
        if let Some(resource_id) = &filter.resource_id {
            query = query.filter(audit_events::resource_id.eq(resource_id.clone()));
        }
        if let Some(namespace) = &filter.namespace {
            query = query.filter(audit_events::namespace.eq(namespace.clone()));
        }
        if let Some(context) = &filter.context {
            query = query.filter(audit_events::context.eq(context.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_events::at.ge(since.naive_utc()));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_events::at.le(until.naive_utc()));
        }
        query
    };
    let count = filtered().count().get_result::<i64>(conn)?;
    let items = filtered()
        .order(audit_events::seq.desc())
        .limit(i64::from(page.limit()))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        count: u64::try_from(count).unwrap_or(0),
        limit: page.limit(),
        offset: page.offset(),
    })
}

/// How many events verifying reads at once.
const VERIFY_BATCH: i64 = 1000;

/// Checks every event against the chain, oldest first, and the head against the last event.
pub(crate) fn verify(conn: &mut DbConnection) -> Result<Verification, StoreError> {
    let (head_seq, head_hash) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first::<(i64, String)>(conn)?;
    let mut verifier = ChainVerifier::default();
    let mut last = (0_i64, String::new());
    loop {
        let rows = audit_events::table
            .filter(audit_events::seq.gt(last.0))
            .filter(audit_events::seq.le(head_seq))
            .order(audit_events::seq.asc())
            .limit(VERIFY_BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            last = (row.seq, row.hash.clone());
            verifier.push(&row.into_domain()?);
        }
    }
    let (events, first_bad_event) = verifier.finish();
    Ok(Verification {
        events,
        first_bad_event,
        head_matches: last == (head_seq, head_hash),
    })
}
