//! The notification outbox: deliveries of deployment events to webhooks, written in the
//! transaction that changes the deployment, and claimed by senders with a lease (as workers
//! claim deployments), so that each is sent by one sender at a time and none is lost when a
//! sender stops.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use kubernaut_domain::{
    ContextName, Delivery, DeliveryStatus, DeploymentDetail, NotificationEvent,
};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::deployments;
use crate::models::{corrupt, now, uuid};
use crate::queue::lease_end;
use crate::schema::{deployments as deployments_table, notification_attempts, notifications};

/// One delivery to store: a webhook and the payload it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The webhook's name.
    pub webhook: String,
    /// The JSON payload, as the event happened.
    pub payload: String,
}

/// Who hears of deployment events, and what each is sent. The store calls it inside the
/// transaction that changes a deployment, so a delivery is stored exactly when the change is.
pub trait Subscribers: Send + Sync {
    /// Whether any webhook wants `event` of a deployment to `context`; when none does, the
    /// deployment is not even read.
    fn wants(&self, event: NotificationEvent, context: &ContextName) -> bool;

    /// The deliveries of `event` of `deployment`, one per webhook that wants it.
    fn deliveries(
        &self,
        event: NotificationEvent,
        deployment: &DeploymentDetail,
    ) -> Vec<NewDelivery>;
}

/// The store's subscribers, if any.
#[derive(Clone, Default)]
pub(crate) struct Outbox(Option<Arc<dyn Subscribers>>);

impl Outbox {
    pub(crate) fn new(subscribers: Arc<dyn Subscribers>) -> Self {
        Self(Some(subscribers))
    }

    /// Stores the deliveries of `event` of deployment `id`.
    pub(crate) fn notify(
        &self,
        conn: &mut DbConnection,
        id: &str,
        event: NotificationEvent,
    ) -> Result<(), StoreError> {
        let Some(subscribers) = &self.0 else {
            return Ok(());
        };
        let context = deployments_table::table
            .find(id)
            .select(deployments_table::context)
            .first::<String>(conn)?;
        let context = ContextName::parse(&context).map_err(corrupt)?;
        if !subscribers.wants(event, &context) {
            return Ok(());
        }
        let Some(detail) = deployments::load(conn, uuid(id)?, true)? else {
            return Ok(());
        };
        let created_on = now();
        for delivery in subscribers.deliveries(event, &detail) {
            diesel::insert_into(notifications::table)
                .values((
                    notifications::id.eq(Uuid::now_v7().to_string()),
                    notifications::deployment_id.eq(id),
                    notifications::webhook.eq(&delivery.webhook),
                    notifications::event.eq(event.as_str()),
                    notifications::payload.eq(&delivery.payload),
                    notifications::status.eq(DeliveryStatus::Pending.as_str()),
                    notifications::next_attempt_on.eq(created_on),
                    notifications::created_on.eq(created_on),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// A delivery a sender claimed, with what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// The delivery's id (`X-Kubernaut-Delivery`).
    pub id: Uuid,
    /// The webhook to send it to.
    pub webhook: String,
    /// The event.
    pub event: NotificationEvent,
    /// The JSON payload.
    pub payload: String,
    /// Which attempt this is: 1 for the first.
    pub attempt: i32,
}

/// What a sender's attempt at a delivery saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i32>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The receiver took it.
    Delivered,
    /// It is tried again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts.
    Failed,
}

/// One recorded attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// When it was made.
    pub attempted_on: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i32>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// Claims up to `max` due deliveries for `sender` for `lease`: pending ones whose next attempt
/// is due and that no sender holds (or whose sender's claim lapsed), except those to the
/// webhooks in `skip`.
pub(crate) fn claim(
    conn: &mut DbConnection,
    sender: &str,
    lease: Duration,
    max: usize,
    skip: &[String],
) -> Result<Vec<DueDelivery>, StoreError> {
    let now = now();
    let unclaimed = notifications::lease_until
        .is_null()
        .or(notifications::lease_until.le(now));
    let due = notifications::table
        .filter(notifications::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(notifications::next_attempt_on.le(now))
        .filter(unclaimed)
        .filter(notifications::webhook.ne_all(skip))
        .order((
            notifications::next_attempt_on.asc(),
            notifications::id.asc(),
        ))
        .limit(i64::try_from(max).unwrap_or(i64::MAX))
        .select((
            notifications::id,
            notifications::webhook,
            notifications::event,
            notifications::payload,
            notifications::attempts,
        ))
        .load::<(String, String, String, String, i32)>(conn)?;
    let mut claimed = Vec::new();
    for (id, webhook, event, payload, attempts) in due {
        // Compare-and-set: still pending and unclaimed, so one sender wins.
        let updated = diesel::update(notifications::table.find(&id))
            .filter(notifications::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(
                notifications::lease_until
                    .is_null()
                    .or(notifications::lease_until.le(now)),
            )
            .set((
                notifications::claimed_by.eq(sender),
                notifications::lease_until.eq(lease_end(lease)),
            ))
            .execute(conn)?;
        if updated == 1 {
            claimed.push(DueDelivery {
                id: uuid(&id)?,
                webhook,
                event: NotificationEvent::parse(&event).map_err(corrupt)?,
                payload,
                attempt: attempts + 1,
            });
        }
    }
    Ok(claimed)
}

/// Records an attempt of a delivery `sender` holds and what becomes of it, ending the claim.
/// `Ok(false)` if the sender no longer holds it.
pub(crate) fn record(
    conn: &mut DbConnection,
    id: Uuid,
    sender: &str,
    attempt: &Attempt,
    end: AttemptEnd,
) -> Result<bool, StoreError> {
    let id = id.to_string();
    let attempted_on = now();
    let attempts = notifications::table
        .find(&id)
        .filter(notifications::claimed_by.eq(sender))
        .filter(notifications::status.eq(DeliveryStatus::Pending.as_str()))
        .select(notifications::attempts)
        .first::<i32>(conn)
        .optional()?;
    let Some(attempts) = attempts else {
        return Ok(false);
    };
    let (status, next_attempt_on, delivered_on) = match end {
        AttemptEnd::Delivered => (DeliveryStatus::Delivered, None, Some(attempted_on)),
        AttemptEnd::RetryAt(at) => (DeliveryStatus::Pending, Some(at.naive_utc()), None),
        AttemptEnd::Failed => (DeliveryStatus::Failed, None, None),
    };
    let updated = diesel::update(notifications::table.find(&id))
        .filter(notifications::claimed_by.eq(sender))
        .filter(notifications::attempts.eq(attempts))
        .set((
            notifications::status.eq(status.as_str()),
            notifications::attempts.eq(attempts + 1),
            notifications::next_attempt_on.eq(next_attempt_on),
            notifications::delivered_on.eq(delivered_on),
            notifications::last_status.eq(attempt.status),
            notifications::last_error.eq(attempt.error.as_deref()),
            notifications::claimed_by.eq(None::<String>),
            notifications::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    diesel::insert_into(notification_attempts::table)
        .values((
            notification_attempts::notification_id.eq(&id),
            notification_attempts::seq.eq(attempts + 1),
            notification_attempts::attempted_on.eq(attempted_on),
            notification_attempts::status.eq(attempt.status),
            notification_attempts::error.eq(attempt.error.as_deref()),
            notification_attempts::duration_ms
                .eq(i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX)),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The deliveries of a deployment, oldest first, each with its attempts.
pub(crate) fn of_deployment(
    conn: &mut DbConnection,
    deployment_id: Uuid,
) -> Result<Vec<(Delivery, Vec<AttemptRecord>)>, StoreError> {
    type Row = (
        String,
        String,
        String,
        String,
        i32,
        Option<i32>,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows = notifications::table
        .filter(notifications::deployment_id.eq(deployment_id.to_string()))
        .order((notifications::created_on.asc(), notifications::id.asc()))
        .select((
            notifications::id,
            notifications::webhook,
            notifications::event,
            notifications::status,
            notifications::attempts,
            notifications::last_status,
            notifications::last_error,
            notifications::created_on,
            notifications::next_attempt_on,
            notifications::delivered_on,
        ))
        .load::<Row>(conn)?;
    let utc = |at: NaiveDateTime| at.and_utc();
    rows.into_iter()
        .map(
            |(
                id,
                webhook,
                event,
                status,
                attempts,
                last_status,
                last_error,
                created,
                next,
                delivered,
            )| {
                let history = notification_attempts::table
                    .filter(notification_attempts::notification_id.eq(&id))
                    .order(notification_attempts::seq.asc())
                    .select((
                        notification_attempts::attempted_on,
                        notification_attempts::status,
                        notification_attempts::error,
                        notification_attempts::duration_ms,
                    ))
                    .load::<(NaiveDateTime, Option<i32>, Option<String>, i64)>(conn)?
                    .into_iter()
                    .map(|(at, status, error, duration_ms)| AttemptRecord {
                        attempted_on: utc(at),
                        status,
                        error,
                        duration_ms,
                    })
                    .collect();
                let status = DeliveryStatus::parse(&status).ok_or_else(|| {
                    StoreError::Corrupt(format!("delivery {id}: unknown status {status:?}"))
                })?;
                let delivery = Delivery {
                    id: uuid(&id)?,
                    deployment_id,
                    webhook,
                    event: NotificationEvent::parse(&event).map_err(corrupt)?,
                    status,
                    attempts,
                    last_status,
                    last_error,
                    created_on: utc(created),
                    next_attempt_on: next.filter(|_| status == DeliveryStatus::Pending).map(utc),
                    delivered_on: delivered.map(utc),
                };
                Ok((delivery, history))
            },
        )
        .collect()
}

/// How many deliveries are pending.
pub(crate) fn pending(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(notifications::table
        .filter(notifications::status.eq(DeliveryStatus::Pending.as_str()))
        .count()
        .get_result(conn)?)
}
