//! The deployment queue: workers claim deployments, record their progress, and renew their
//! claims; a claim that lapses lets another worker resume the deployment.
//!
//! Deployments of one service to one context form a *lane* and run one at a time, in creation
//! order: only the oldest unfinished deployment of a lane can be claimed, and only while nobody
//! else holds it. A claim is a conditional update (compare-and-set on the status and holder
//! seen, and on a pending or still lapsed lease), so concurrent workers on one database claim
//! each deployment exactly once.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use kubernaut_domain::{
    ContextName, DeploymentStatus, Namespace, NotificationEvent, ServiceName, Stream,
};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::deployments::append_log;
use crate::lanes;
use crate::models::{corrupt, now, uuid};
use crate::outbox::Outbox;
use crate::schema::{deployments, services};

/// How often a deployment is started before an interruption fails it instead of resuming it.
pub const MAX_ATTEMPTS: i32 = 3;

/// The unfinished statuses of the deployments under `table` (a name or alias) as a literal
/// filter, the condition of the partial indexes: with a bound parameter the planners (SQLite's,
/// and a generic PostgreSQL plan) would not use them.
fn unfinished_in(table: &str) -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>(&format!(
        "{table}.status IN ('pending', 'applying', 'rolling_out')"
    ))
}

/// [`unfinished_in`] the `deployments` table.
fn unfinished() -> diesel::expression::SqlLiteral<Bool> {
    unfinished_in("deployments")
}

/// A deployment claimed by a worker, with what it needs to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The deployment's id.
    pub id: Uuid,
    /// The context to deploy to.
    pub context: ContextName,
    /// The namespace to apply into.
    pub namespace: Namespace,
    /// The rendered manifest.
    pub manifest: String,
    /// Which start this is: 1, or more when resumed after its worker stopped.
    pub attempt: i32,
    /// The service deployed.
    pub service_id: Uuid,
    /// Its name.
    pub service: ServiceName,
    /// Who created the deployment.
    pub created_by: String,
    /// Whether a failure rolls it back by itself.
    pub auto_rollback: bool,
    /// Whether members of the service's ApplySet missing from the manifest are deleted.
    pub prune: bool,
}

/// What a worker reports about a deployment it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The new status, if it changes.
    pub status: Option<DeploymentStatus>,
    /// The error, for a failed deployment.
    pub error: Option<String>,
    /// Lines to append to the log.
    pub lines: Vec<(Stream, String)>,
}

/// A lane's head that may be claimed.
#[derive(Debug, Queryable)]
struct Unfinished {
    id: String,
    status: String,
    claimed_by: Option<String>,
    attempts: i32,
}

pub(crate) fn lease_end(lease: Duration) -> NaiveDateTime {
    now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX)
}

/// Claims up to `max` deployments for `worker`: the head of each lane, if it is pending or its
/// claim has lapsed. A lapsed deployment that has been started [`MAX_ATTEMPTS`] times is failed
/// instead.
///
/// The database finds the claimable heads (an unfinished deployment with no earlier unfinished
/// one in its lane, through `deployments_lane_unfinished_idx`), oldest first: a claim reads the
/// deployments it may claim, not the whole queue.
pub(crate) fn claim(
    conn: &mut DbConnection,
    outbox: &Outbox,
    worker: &str,
    lease: Duration,
    max: usize,
) -> Result<Vec<Claim>, StoreError> {
    let now = now();
    let earlier = diesel::alias!(deployments as earlier);
    let ahead = earlier
        .filter(
            earlier
                .field(deployments::service_id)
                .eq(deployments::service_id),
        )
        .filter(earlier.field(deployments::context).eq(deployments::context))
        .filter(unfinished_in("earlier"))
        .filter(
            earlier
                .field(deployments::created_on)
                .lt(deployments::created_on)
                .or(earlier
                    .field(deployments::created_on)
                    .eq(deployments::created_on)
                    .and(earlier.field(deployments::id).lt(deployments::id))),
        );
    let heads: Vec<Unfinished> = deployments::table
        .filter(unfinished())
        .filter(
            deployments::status
                .eq(DeploymentStatus::Pending.as_str())
                .or(deployments::lease_until.is_null())
                .or(deployments::lease_until.le(now)),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(ahead)))
        .order((deployments::created_on.asc(), deployments::id.asc()))
        .limit(i64::try_from(max).unwrap_or(i64::MAX))
        .select((
            deployments::id,
            deployments::status,
            deployments::claimed_by,
            deployments::attempts,
        ))
        .load(conn)?;
    let mut claims = Vec::new();
    for head in heads {
        let pending = head.status == DeploymentStatus::Pending.as_str();
        let claimed = conn.transaction(|conn| {
            if pending {
                claim_pending(conn, outbox, &head, worker, lease)
            } else {
                resume_lapsed(conn, outbox, &head, worker, lease)
            }
        })?;
        if let Some(claim) = claimed {
            claims.push(claim);
        }
    }
    Ok(claims)
}

fn claim_pending(
    conn: &mut DbConnection,
    outbox: &Outbox,
    head: &Unfinished,
    worker: &str,
    lease: Duration,
) -> Result<Option<Claim>, StoreError> {
    let updated = diesel::update(deployments::table.find(&head.id))
        .filter(deployments::status.eq(DeploymentStatus::Pending.as_str()))
        .set((
            deployments::status.eq(DeploymentStatus::Applying.as_str()),
            deployments::claimed_by.eq(worker),
            deployments::lease_until.eq(lease_end(lease)),
            deployments::attempts.eq(head.attempts + 1),
            deployments::started_on.eq(now()),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    append_log(
        conn,
        &head.id,
        &[(Stream::Stdout, format!("started by worker {worker}"))],
    )?;
    outbox.notify(conn, &head.id, NotificationEvent::Started)?;
    lanes::status_changed(conn, &head.id, DeploymentStatus::Applying)?;
    load_claim(conn, &head.id).map(Some)
}

fn resume_lapsed(
    conn: &mut DbConnection,
    outbox: &Outbox,
    head: &Unfinished,
    worker: &str,
    lease: Duration,
) -> Result<Option<Claim>, StoreError> {
    let previous = head.claimed_by.as_deref().unwrap_or("unknown");
    // Compare-and-set: still held by the same worker, in the same status, and still lapsed
    // (a worker that renewed meanwhile keeps its deployment).
    let target = diesel::update(deployments::table.find(&head.id))
        .filter(deployments::status.eq(&head.status))
        .filter(deployments::claimed_by.eq(&head.claimed_by))
        .filter(
            deployments::lease_until
                .is_null()
                .or(deployments::lease_until.le(now())),
        );
    if head.attempts >= MAX_ATTEMPTS {
        let error = format!(
            "interrupted {} times: the kubernaut-server running it stopped while it was {}; \
             deploy the release again",
            head.attempts, head.status
        );
        let updated = target
            .set((
                deployments::status.eq(DeploymentStatus::Failed.as_str()),
                deployments::error.eq(error.clone()),
                deployments::lease_until.eq(None::<NaiveDateTime>),
                deployments::finished_on.eq(now()),
            ))
            .execute(conn)?;
        if updated > 0 {
            append_log(conn, &head.id, &[(Stream::Stderr, error)])?;
            outbox.notify(conn, &head.id, NotificationEvent::Failed)?;
            lanes::status_changed(conn, &head.id, DeploymentStatus::Failed)?;
        }
        return Ok(None);
    }
    let updated = target
        .set((
            deployments::status.eq(DeploymentStatus::Applying.as_str()),
            deployments::claimed_by.eq(worker),
            deployments::lease_until.eq(lease_end(lease)),
            deployments::attempts.eq(head.attempts + 1),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    append_log(
        conn,
        &head.id,
        &[(
            Stream::Stderr,
            format!(
                "worker {previous} stopped while the deployment was {}; resumed by worker \
                 {worker} (attempt {} of {MAX_ATTEMPTS}), applying again",
                head.status,
                head.attempts + 1
            ),
        )],
    )?;
    lanes::status_changed(conn, &head.id, DeploymentStatus::Applying)?;
    load_claim(conn, &head.id).map(Some)
}

fn load_claim(conn: &mut DbConnection, id: &str) -> Result<Claim, StoreError> {
    let (
        context,
        (namespace, service),
        manifest,
        attempt,
        service_id,
        created_by,
        auto_rollback,
        prune,
    ) = deployments::table
        .inner_join(services::table)
        .filter(deployments::id.eq(id))
        .select((
            deployments::context,
            (services::namespace, services::name),
            deployments::manifest,
            deployments::attempts,
            deployments::service_id,
            deployments::created_by,
            deployments::auto_rollback,
            deployments::prune,
        ))
        .first::<(
            String,
            (String, String),
            String,
            i32,
            String,
            String,
            i32,
            i32,
        )>(conn)?;
    Ok(Claim {
        id: uuid(id)?,
        context: ContextName::parse(&context).map_err(corrupt)?,
        namespace: Namespace::parse(&namespace).map_err(corrupt)?,
        manifest,
        attempt,
        service_id: uuid(&service_id)?,
        service: ServiceName::parse(&service).map_err(corrupt)?,
        created_by,
        auto_rollback: auto_rollback != 0,
        prune: prune != 0,
    })
}

/// Records progress of a deployment `worker` holds, and renews its claim (or ends it, for a
/// terminal status). `Ok(false)` if the worker no longer holds it.
pub(crate) fn record(
    conn: &mut DbConnection,
    outbox: &Outbox,
    id: Uuid,
    worker: &str,
    lease: Duration,
    progress: &Progress,
) -> Result<bool, StoreError> {
    let id = id.to_string();
    let terminal = progress.status.is_some_and(DeploymentStatus::is_terminal);
    let changes = Changes {
        status: progress.status.map(DeploymentStatus::as_str),
        error: progress.error.as_deref(),
        finished_on: terminal.then(now),
        lease_until: if terminal {
            None
        } else {
            Some(lease_end(lease))
        },
    };
    let updated = diesel::update(deployments::table.find(&id))
        .filter(deployments::claimed_by.eq(worker))
        .filter(unfinished())
        .set(&changes)
        .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    append_log(conn, &id, &progress.lines)?;
    if let Some(status) = progress.status {
        lanes::status_changed(conn, &id, status)?;
    }
    if let Some(event) = progress.status.and_then(NotificationEvent::ended) {
        outbox.notify(conn, &id, event)?;
    }
    Ok(true)
}

#[derive(AsChangeset)]
#[diesel(table_name = deployments, treat_none_as_null = false)]
struct Changes<'a> {
    status: Option<&'a str>,
    error: Option<&'a str>,
    finished_on: Option<NaiveDateTime>,
    #[diesel(treat_none_as_null = true)]
    lease_until: Option<NaiveDateTime>,
}

/// Renews the claims `worker` holds; returns how many.
pub(crate) fn renew(
    conn: &mut DbConnection,
    worker: &str,
    lease: Duration,
) -> Result<usize, StoreError> {
    Ok(diesel::update(deployments::table)
        .filter(deployments::claimed_by.eq(worker))
        .filter(unfinished())
        .set(deployments::lease_until.eq(lease_end(lease)))
        .execute(conn)?)
}

/// The deployments `worker` holds that someone asked to cancel, with who asked.
pub(crate) fn cancel_requests(
    conn: &mut DbConnection,
    worker: &str,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let requests: Vec<(String, Option<String>)> = deployments::table
        .filter(deployments::claimed_by.eq(worker))
        .filter(unfinished())
        .filter(deployments::cancel_requested_by.is_not_null())
        .select((deployments::id, deployments::cancel_requested_by))
        .load(conn)?;
    requests
        .into_iter()
        .filter_map(|(id, by)| Some((id, by?)))
        .map(|(id, by)| Ok((uuid(&id)?, by)))
        .collect()
}

/// Lets the claims `worker` holds lapse now, so that another worker (or this server after a
/// restart) resumes them at once; for a graceful shutdown.
pub(crate) fn release(conn: &mut DbConnection, worker: &str) -> Result<usize, StoreError> {
    Ok(diesel::update(deployments::table)
        .filter(deployments::claimed_by.eq(worker))
        .filter(unfinished())
        .set(deployments::lease_until.eq(now()))
        .execute(conn)?)
}
