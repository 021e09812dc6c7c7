//! Lanes: each (service, context)'s newest deployment and newest successful one, kept beside the
//! deployments so that "what runs where" reads one row per lane instead of searching history.
//!
//! Every write offers a deployment as it is now; the row keeps the newest candidate (by
//! `created_on`, then id) as its head and the newest successful one as what runs, so writers
//! that commit in any order agree. Only a delete, which can move a lane back, recomputes it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use kubernaut_domain::{ContextName, DeploymentStatus, Service, Version, Visibility};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::models::{ServiceRow, corrupt, now, utc, uuid};
use crate::schema::{deployments, lanes, releases, services};
use crate::services::visible_namespaces;

/// The newest deployment of a service to a context, for "what runs where".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The context.
    pub context: ContextName,
    /// The lane's newest deployment that is not deleted.
    pub deployment: Uuid,
    /// Its release's version.
    pub version: Version,
    /// Its status.
    pub status: DeploymentStatus,
    /// When it reached that status.
    pub changed_on: chrono::DateTime<chrono::Utc>,
    /// The newest deployment that succeeded, and its version: what runs there.
    pub running: Option<(Uuid, Version)>,
}

/// A service with its lanes, by context name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLanes {
    /// The service.
    pub service: Service,
    /// Its lanes, by context name; empty when it was never deployed.
    pub lanes: Vec<Lane>,
}

/// Filters of "what runs where".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneFilter {
    /// Only services in this namespace.
    pub namespace: Option<String>,
    /// Only services whose name contains this text.
    pub name: Option<String>,
}

/// A deployment as a lane candidate.
#[derive(Debug, Queryable)]
pub(crate) struct Candidate {
    pub(crate) id: String,
    pub(crate) service_id: String,
    pub(crate) context: String,
    pub(crate) created_on: NaiveDateTime,
    pub(crate) status: String,
    pub(crate) started_on: Option<NaiveDateTime>,
    pub(crate) finished_on: Option<NaiveDateTime>,
    pub(crate) deleted: bool,
    pub(crate) version: String,
}

fn candidate(conn: &mut DbConnection, id: &str) -> Result<Option<Candidate>, StoreError> {
    Ok(deployments::table
        .inner_join(releases::table.on(releases::id.eq(deployments::release_id)))
        .filter(deployments::id.eq(id))
        .select((
            deployments::id,
            deployments::service_id,
            deployments::context,
            deployments::created_on,
            deployments::status,
            deployments::started_on,
            deployments::finished_on,
            deployments::deleted_on.is_not_null(),
            releases::version,
        ))
        .first(conn)
        .optional()?)
}

/// Records the status deployment `id` reached now in its lane, in the transaction of the
/// change: one statement when it is the lane's head (as it is, but for an older deployment that
/// ends after a newer one was created); when it succeeded and is not the head, it may still be
/// what runs there.
pub(crate) fn status_changed(
    conn: &mut DbConnection,
    id: &str,
    status: DeploymentStatus,
) -> Result<(), StoreError> {
    let head = lanes::table.filter(lanes::deployment_id.eq(id));
    let changed = (
        lanes::status.eq(status.as_str()),
        lanes::changed_on.eq(now()),
    );
    if status != DeploymentStatus::Succeeded {
        diesel::update(head).set(changed).execute(conn)?;
        return Ok(());
    }
    // The head succeeded: it is the newest of its lane, so what runs there now.
    let updated = diesel::update(head)
        .set((
            changed,
            lanes::running_id.eq(lanes::deployment_id.nullable()),
            lanes::running_created_on.eq(lanes::deployment_created_on.nullable()),
            lanes::running_version.eq(lanes::version.nullable()),
        ))
        .execute(conn)?;
    if updated == 0 {
        offer(conn, id)?;
    }
    Ok(())
}

/// Records deployment `id` as it is now in its lane: as the head if none is newer, and as what
/// runs if it succeeded and none newer did.
pub(crate) fn offer(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    match candidate(conn, id)? {
        Some(candidate) => offer_candidate(conn, &candidate),
        None => Ok(()),
    }
}

/// Records `candidate` in its lane (see [`offer`]): a new deployment, whose lane the
/// transaction that stores it keeps.
pub(crate) fn offer_candidate(
    conn: &mut DbConnection,
    candidate: &Candidate,
) -> Result<(), StoreError> {
    if candidate.deleted {
        return Ok(());
    }
    // When it reached its status: finished, else started, else created.
    let changed_on = candidate
        .finished_on
        .or(candidate.started_on)
        .unwrap_or(candidate.created_on);
    let lane = lanes::table
        .filter(lanes::service_id.eq(&candidate.service_id))
        .filter(lanes::context.eq(&candidate.context));
    let head_is_older =
        lanes::deployment_created_on
            .lt(candidate.created_on)
            .or(lanes::deployment_created_on
                .eq(candidate.created_on)
                .and(lanes::deployment_id.le(&candidate.id)));
    let head = (
        lanes::deployment_id.eq(&candidate.id),
        lanes::deployment_created_on.eq(candidate.created_on),
        lanes::version.eq(&candidate.version),
        lanes::status.eq(&candidate.status),
        lanes::changed_on.eq(changed_on),
    );
    let updated = diesel::update(lane.filter(head_is_older))
        .set(head)
        .execute(conn)?;
    if updated == 0 {
        let row = (
            lanes::service_id.eq(&candidate.service_id),
            lanes::context.eq(&candidate.context),
            head,
        );
        // A lane's first deployment; a concurrent first one or a newer head makes it a no-op.
        let inserted = match conn {
            DbConnection::Postgresql(conn) => diesel::insert_into(lanes::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(conn)?,
            DbConnection::Sqlite(conn) => diesel::insert_or_ignore_into(lanes::table)
                .values(row)
                .execute(conn)?,
        };
        if inserted == 0 {
            diesel::update(lane.filter(head_is_older))
                .set(head)
                .execute(conn)?;
        }
    }
    if candidate.status == DeploymentStatus::Succeeded.as_str() {
        let running_is_older = lanes::running_created_on
            .is_null()
            .or(lanes::running_created_on.lt(candidate.created_on))
            .or(lanes::running_created_on
                .eq(candidate.created_on)
                .and(lanes::running_id.le(&candidate.id)));
        diesel::update(lane.filter(running_is_older))
            .set((
                lanes::running_id.eq(&candidate.id),
                lanes::running_created_on.eq(candidate.created_on),
                lanes::running_version.eq(&candidate.version),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Recomputes the lane of deployment `id` from the deployments that are not deleted, when `id`
/// was its head or what ran there: after a delete, which may move the lane back to an older
/// deployment, or empty it.
pub(crate) fn recompute(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    let Some(deleted) = candidate(conn, id)? else {
        return Ok(());
    };
    let shown = lanes::table
        .filter(lanes::deployment_id.eq(id).or(lanes::running_id.eq(id)))
        .count()
        .get_result::<i64>(conn)?;
    if shown == 0 {
        return Ok(());
    }
    let lane = lanes::table
        .filter(lanes::service_id.eq(&deleted.service_id))
        .filter(lanes::context.eq(&deleted.context));
    diesel::delete(lane).execute(conn)?;
    let newest = |conn: &mut DbConnection, succeeded: bool| -> Result<Option<String>, StoreError> {
        let mut query = deployments::table
            .filter(deployments::service_id.eq(&deleted.service_id))
            .filter(deployments::context.eq(&deleted.context))
            .filter(deployments::deleted_on.is_null())
            .into_boxed();
        if succeeded {
            query = query.filter(deployments::status.eq(DeploymentStatus::Succeeded.as_str()));
        }
        Ok(query
            .order((deployments::created_on.desc(), deployments::id.desc()))
            .select(deployments::id)
            .first(conn)
            .optional()?)
    };
    if let Some(good) = newest(conn, true)? {
        offer(conn, &good)?;
    }
    if let Some(head) = newest(conn, false)? {
        offer(conn, &head)?;
    }
    Ok(())
}

/// The services' rows, and the lanes' rows with the id of their service.
type LaneColumns = (
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<String>,
);

/// The visible services matching `filter`, by namespace and name, each with its lanes: two
/// queries, the services and then their lanes (through the lanes' primary key alone when
/// nothing is filtered), so that a service's columns are read once rather than once per lane.
pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &LaneFilter,
    visible: &Visibility,
) -> Result<Vec<ServiceLanes>, StoreError> {
    // Service names are lowercase; SQLite's LIKE ignores case and PostgreSQL's does not.
    let pattern = filter.name.as_ref().map(|name| {
        let escaped = name
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let columns = (
        lanes::service_id,
        lanes::context,
        lanes::deployment_id,
        lanes::version,
        lanes::status,
        lanes::changed_on,
        lanes::running_id,
        lanes::running_version,
    );
    let mut services_query = services::table
        .select(ServiceRow::as_select())
        .order((services::namespace, services::name))
        .into_boxed();
    let mut lanes_query = lanes::table
        .inner_join(services::table)
        .select(columns)
        .order((lanes::service_id, lanes::context))
        .into_boxed();
    let filtered = *visible != Visibility::All || filter.namespace.is_some() || pattern.is_some();
    if let Some(condition) = visible_namespaces(visible) {
        services_query = services_query.filter(condition);
    }
    if let Some(condition) = visible_namespaces(visible) {
        lanes_query = lanes_query.filter(condition);
    }
    if let Some(namespace) = &filter.namespace {
        services_query = services_query.filter(services::namespace.eq(namespace));
        lanes_query = lanes_query.filter(services::namespace.eq(namespace));
    }
    if let Some(pattern) = &pattern {
        services_query = services_query.filter(services::name.like(pattern).escape('\\'));
        lanes_query = lanes_query.filter(services::name.like(pattern).escape('\\'));
    }
    let services: Vec<ServiceRow> = services_query.load(conn)?;
    let rows: Vec<LaneColumns> = if filtered {
        lanes_query.load(conn)?
    } else {
        lanes::table
            .select(columns)
            .order((lanes::service_id, lanes::context))
            .load(conn)?
    };
    let mut by_service: HashMap<String, Vec<Lane>> = HashMap::with_capacity(services.len());
    for (service, context, deployment, version, status, changed_on, running_id, running) in rows {
        let running = match (running_id, running) {
            (Some(id), Some(version)) => {
                Some((uuid(&id)?, Version::parse(&version).map_err(corrupt)?))
            }
            _ => None,
        };
        by_service.entry(service).or_default().push(Lane {
            context: ContextName::parse(&context).map_err(corrupt)?,
            deployment: uuid(&deployment)?,
            version: Version::parse(&version).map_err(corrupt)?,
            status: DeploymentStatus::parse(&status).map_err(corrupt)?,
            changed_on: utc(changed_on),
            running,
        });
    }
    services
        .into_iter()
        .map(|service| {
            let lanes = by_service.remove(&service.id).unwrap_or_default();
            Ok(ServiceLanes {
                service: service.into_domain()?,
                lanes,
            })
        })
        .collect()
}
