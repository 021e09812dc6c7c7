//! Deployment queries: create (with the first log line), get, list, soft delete, and the latest
//! deployment of a service per context.

use diesel::prelude::*;
use kubernaut_domain::{
    ContextName, Deployment, DeploymentDetail, DeploymentStatus, LogEntry, Namespace,
    NewDeployment, NotificationEvent, Page, Paged, ReleaseRef, ServiceName, Stream, Version,
    Visibility,
};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::lanes;
use crate::models::{DeploymentRow, LogRow, NewDeploymentRow, ServiceRow, corrupt, now, utc, uuid};
use crate::outbox::Outbox;
use crate::schema::{deployment_log, deployments, releases, services};
use crate::services::matching_services;
use crate::store::Deletion;

/// Exact-match filters of the deployment list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentFilter {
    /// Only deployments of services with this name.
    pub service: Option<ServiceName>,
    /// Only deployments of services in this namespace.
    pub namespace: Option<Namespace>,
    /// Only deployments of this version.
    pub version: Option<Version>,
    /// Only deployments to this context.
    pub context: Option<ContextName>,
    /// Only deployments in this status.
    pub status: Option<DeploymentStatus>,
    /// Only deployments of this release.
    pub release: Option<Uuid>,
}

/// A deployment row with what it shows of its release.
type Joined = (DeploymentRow, String, ServiceRow);

pub(crate) fn create(
    conn: &mut DbConnection,
    new: &NewDeployment,
    first_line: &str,
) -> Result<DeploymentDetail, StoreError> {
    let release_id = new.release_id.to_string();
    let (service, version) = releases::table
        .inner_join(services::table)
        .filter(releases::id.eq(&release_id))
        .filter(releases::deleted_on.is_null())
        .select((ServiceRow::as_select(), releases::version))
        .first::<(ServiceRow, String)>(conn)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("release {release_id} does not exist")))?;
    let id = Uuid::now_v7().to_string();
    let created_on = now();
    diesel::insert_into(deployments::table)
        .values(NewDeploymentRow {
            id: &id,
            release_id: &release_id,
            service_id: &service.id,
            context: new.context.as_str(),
            manifest: &new.manifest,
            status: DeploymentStatus::Pending.as_str(),
            created_on,
            created_by: &new.created_by,
            rollback: i32::from(new.rollback),
            auto_rollback: i32::from(new.auto_rollback),
            prune: i32::from(new.prune),
        })
        .execute(conn)?;
    append_log(conn, &id, &[(Stream::Stdout, first_line.to_owned())])?;
    lanes::offer_candidate(
        conn,
        &lanes::Candidate {
            id: id.clone(),
            service_id: service.id.clone(),
            context: new.context.to_string(),
            created_on,
            status: DeploymentStatus::Pending.as_str().to_owned(),
            started_on: None,
            finished_on: None,
            deleted: false,
            version,
        },
    )?;
    get(conn, uuid(&id)?)?
        .ok_or_else(|| StoreError::Corrupt(format!("deployment {id} vanished after its insert")))
}

pub(crate) fn get(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<DeploymentDetail>, StoreError> {
    load(conn, id, false)
}

/// The deployment with its manifest and log; a deleted one too when `deleted`.
pub(crate) fn load(
    conn: &mut DbConnection,
    id: Uuid,
    deleted: bool,
) -> Result<Option<DeploymentDetail>, StoreError> {
    let id = id.to_string();
    let mut query = joined().filter(deployments::id.eq(&id)).into_boxed();
    if !deleted {
        query = query.filter(deployments::deleted_on.is_null());
    }
    let found = query
        .select((
            DeploymentRow::as_select(),
            releases::version,
            ServiceRow::as_select(),
        ))
        .first::<Joined>(conn)
        .optional()?;
    let Some(joined) = found else {
        return Ok(None);
    };
    let manifest = deployments::table
        .find(&id)
        .select(deployments::manifest)
        .first::<String>(conn)?;
    let log = deployment_log::table
        .filter(deployment_log::deployment_id.eq(&id))
        .order(deployment_log::seq.asc())
        .select(LogRow::as_select())
        .load(conn)?
        .into_iter()
        .map(into_log_entry)
        .collect::<Result<_, _>>()?;
    Ok(Some(DeploymentDetail {
        deployment: into_deployment(joined)?,
        manifest,
        log,
    }))
}

/// Deployments joined with their release's version and their service.
#[diesel::dsl::auto_type(no_type_alias)]
fn joined() -> _ {
    deployments::table
        .inner_join(releases::table.on(releases::id.eq(deployments::release_id)))
        .inner_join(services::table.on(services::id.eq(deployments::service_id)))
}

pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &DeploymentFilter,
    visible: &Visibility,
    page: Page,
) -> Result<Paged<Deployment>, StoreError> {
    let empty = Paged {
        items: Vec::new(),
        count: 0,
        limit: page.limit(),
        offset: page.offset(),
    };
    let restricted = *visible != Visibility::All;
    let services = if filter.service.is_some() || filter.namespace.is_some() || restricted {
        let ids: Vec<String> = matching_services(
            conn,
            filter.service.as_ref(),
            filter.namespace.as_ref(),
            visible,
        )?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
        if ids.is_empty() {
            return Ok(empty);
        }
        Some(ids)
    } else {
        None
    };
    let filtered = || {
        let mut query = joined()
            .filter(deployments::deleted_on.is_null())
            .into_boxed();
        // One service is an equality, so that the index delivers the page in order.
        match services.as_deref() {
            Some([id]) => query = query.filter(deployments::service_id.eq(id.clone())),
            Some(ids) => query = query.filter(deployments::service_id.eq_any(ids.to_vec())),
            None => {}
        }
        if let Some(version) = &filter.version {
            query = query.filter(releases::version.eq(version.as_str().to_owned()));
        }
        if let Some(context) = &filter.context {
            query = query.filter(deployments::context.eq(context.as_str().to_owned()));
        }
        if let Some(status) = filter.status {
            query = query.filter(deployments::status.eq(status.as_str()));
        }
        if let Some(release) = filter.release {
            query = query.filter(deployments::release_id.eq(release.to_string()));
        }
        query
    };
    let count = filtered().count().get_result::<i64>(conn)?;
    let items = filtered()
        .order((deployments::created_on.desc(), deployments::id.desc()))
        .limit(i64::from(page.limit()))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .select((
            DeploymentRow::as_select(),
            releases::version,
            ServiceRow::as_select(),
        ))
        .load::<Joined>(conn)?
        .into_iter()
        .map(into_deployment)
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        count: u64::try_from(count).unwrap_or(0),
        ..empty
    })
}

/// The newest active deployment of a service to each context it was deployed to, by context
/// name.
pub(crate) fn latest_per_context(
    conn: &mut DbConnection,
    service_id: &str,
) -> Result<Vec<Deployment>, StoreError> {
    let contexts: Vec<String> = deployments::table
        .filter(deployments::service_id.eq(service_id))
        .filter(deployments::deleted_on.is_null())
        .select(deployments::context)
        .distinct()
        .order(deployments::context.asc())
        .load(conn)?;
    let mut latest = Vec::with_capacity(contexts.len());
    for context in contexts {
        let joined = joined()
            .filter(deployments::service_id.eq(service_id))
            .filter(deployments::context.eq(&context))
            .filter(deployments::deleted_on.is_null())
            .order((deployments::created_on.desc(), deployments::id.desc()))
            .select((
                DeploymentRow::as_select(),
                releases::version,
                ServiceRow::as_select(),
            ))
            .first::<Joined>(conn)?;
        latest.push(into_deployment(joined)?);
    }
    Ok(latest)
}

/// How a request to cancel a deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancellation {
    /// No deployment has this id.
    Unknown,
    /// It was pending and is canceled now.
    Canceled,
    /// It is running: its worker stops it before its next step. `true` when this request was
    /// the first to ask.
    Requested(bool),
    /// It had ended already, with this status.
    Ended(DeploymentStatus),
}

/// Cancels a pending deployment at once, or asks the worker of a running one to stop. A
/// deleted deployment is [`Cancellation::Unknown`]. Each change is conditional on the status
/// read, so a worker claiming or ending the deployment meanwhile makes it read again.
pub(crate) fn cancel(
    conn: &mut DbConnection,
    outbox: &Outbox,
    id: Uuid,
    by: &str,
) -> Result<Cancellation, StoreError> {
    let id = id.to_string();
    loop {
        let status = deployments::table
            .find(&id)
            .filter(deployments::deleted_on.is_null())
            .select(deployments::status)
            .first::<String>(conn)
            .optional()?;
        let Some(status) = status else {
            return Ok(Cancellation::Unknown);
        };
        let status = DeploymentStatus::parse(&status).map_err(corrupt)?;
        let target = diesel::update(deployments::table.find(&id))
            .filter(deployments::status.eq(status.as_str()));
        match status {
            DeploymentStatus::Pending => {
                let canceled = target
                    .set((
                        deployments::status.eq(DeploymentStatus::Canceled.as_str()),
                        deployments::finished_on.eq(now()),
                        deployments::cancel_requested_by.eq(by),
                    ))
                    .execute(conn)?;
                if canceled == 1 {
                    append_log(
                        conn,
                        &id,
                        &[(
                            Stream::Stderr,
                            format!("canceled by {by} before it started"),
                        )],
                    )?;
                    outbox.notify(conn, &id, NotificationEvent::Canceled)?;
                    lanes::status_changed(conn, &id, DeploymentStatus::Canceled)?;
                    return Ok(Cancellation::Canceled);
                }
            }
            DeploymentStatus::Applying | DeploymentStatus::RollingOut => {
                let asked = target
                    .filter(deployments::cancel_requested_by.is_null())
                    .set(deployments::cancel_requested_by.eq(by))
                    .execute(conn)?;
                if asked == 1 {
                    append_log(
                        conn,
                        &id,
                        &[(
                            Stream::Stderr,
                            format!("cancel requested by {by}; stopping before the next step"),
                        )],
                    )?;
                    return Ok(Cancellation::Requested(true));
                }
                let already = deployments::table
                    .find(&id)
                    .filter(deployments::status.eq(status.as_str()))
                    .filter(deployments::cancel_requested_by.is_not_null())
                    .count()
                    .get_result::<i64>(conn)?;
                if already == 1 {
                    return Ok(Cancellation::Requested(false));
                }
            }
            ended => return Ok(Cancellation::Ended(ended)),
        }
    }
}

/// Who asked to cancel this deployment, if anyone did.
pub(crate) fn cancel_requested_by(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(deployments::table
        .find(id.to_string())
        .select(deployments::cancel_requested_by)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// How the newest ended (succeeded, failed or canceled), not deleted deployment of a lane
/// ended, and its release.
pub(crate) fn newest_ended(
    conn: &mut DbConnection,
    service_id: Uuid,
    context: &ContextName,
) -> Result<Option<(DeploymentStatus, Uuid)>, StoreError> {
    deployments::table
        .filter(deployments::service_id.eq(service_id.to_string()))
        .filter(deployments::context.eq(context.as_str()))
        .filter(deployments::status.eq_any(ENDED))
        .filter(deployments::deleted_on.is_null())
        .order((deployments::created_on.desc(), deployments::id.desc()))
        .select((deployments::status, deployments::release_id))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(status, release)| {
            Ok((
                DeploymentStatus::parse(&status).map_err(corrupt)?,
                uuid(&release)?,
            ))
        })
        .transpose()
}

/// The release of the newest succeeded, not deleted deployment of a lane whose release is
/// still active, other than `excluding`.
pub(crate) fn last_good_release(
    conn: &mut DbConnection,
    service_id: Uuid,
    context: &ContextName,
    excluding: Option<Uuid>,
) -> Result<Option<Uuid>, StoreError> {
    let mut query = deployments::table
        .inner_join(releases::table.on(releases::id.eq(deployments::release_id)))
        .filter(deployments::service_id.eq(service_id.to_string()))
        .filter(deployments::context.eq(context.as_str()))
        .filter(deployments::status.eq(DeploymentStatus::Succeeded.as_str()))
        .filter(deployments::deleted_on.is_null())
        .filter(releases::deleted_on.is_null())
        .into_boxed();
    if let Some(excluding) = excluding {
        query = query.filter(deployments::release_id.ne(excluding.to_string()));
    }
    query
        .order((deployments::created_on.desc(), deployments::id.desc()))
        .select(deployments::release_id)
        .first::<String>(conn)
        .optional()?
        .map(|id| uuid(&id))
        .transpose()
}

/// Links a failed deployment to the rollback created for it.
pub(crate) fn set_rolled_back_by(
    conn: &mut DbConnection,
    id: Uuid,
    rollback: Uuid,
) -> Result<(), StoreError> {
    diesel::update(deployments::table.find(id.to_string()))
        .set(deployments::rolled_back_by.eq(rollback.to_string()))
        .execute(conn)?;
    Ok(())
}

/// The statuses of ended deployments.
const ENDED: [&str; 3] = ["succeeded", "failed", "canceled"];

/// How many deployments are pending.
pub(crate) fn count_pending(conn: &mut DbConnection) -> Result<u64, StoreError> {
    let count = deployments::table
        .filter(deployments::status.eq(DeploymentStatus::Pending.as_str()))
        .count()
        .get_result::<i64>(conn)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The namespace and context of the deployment with this id, deleted or not.
pub(crate) fn scope_of(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(Namespace, ContextName)>, StoreError> {
    deployments::table
        .inner_join(services::table.on(services::id.eq(deployments::service_id)))
        .filter(deployments::id.eq(id.to_string()))
        .select((services::namespace, deployments::context))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(namespace, context)| {
            Ok((
                Namespace::parse(&namespace).map_err(corrupt)?,
                ContextName::parse(&context).map_err(corrupt)?,
            ))
        })
        .transpose()
}

/// Soft-deletes a deployment; deleting a deleted one changes nothing.
pub(crate) fn delete(conn: &mut DbConnection, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
    let id = id.to_string();
    let active = deployments::table
        .find(&id)
        .select(deployments::deleted_on.is_null())
        .first::<bool>(conn)
        .optional()?;
    match active {
        None => Ok(Deletion::Unknown),
        Some(false) => Ok(Deletion::AlreadyDone),
        Some(true) => {
            diesel::update(deployments::table.find(&id))
                .filter(deployments::deleted_on.is_null())
                .set((
                    deployments::deleted_on.eq(now()),
                    deployments::deleted_by.eq(by),
                ))
                .execute(conn)?;
            lanes::recompute(conn, &id)?;
            Ok(Deletion::Done)
        }
    }
}

/// Appends `lines` to a deployment's log, after its last line.
pub(crate) fn append_log(
    conn: &mut DbConnection,
    id: &str,
    lines: &[(Stream, String)],
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let last = deployment_log::table
        .filter(deployment_log::deployment_id.eq(id))
        .select(diesel::dsl::max(deployment_log::seq))
        .first::<Option<i32>>(conn)?
        .unwrap_or(0);
    let written_on = now();
    for (seq, (stream, content)) in (last + 1..).zip(lines) {
        diesel::insert_into(deployment_log::table)
            .values(LogRow {
                deployment_id: id.to_owned(),
                seq,
                written_on,
                stream: stream.as_str().to_owned(),
                content: content.clone(),
            })
            .execute(conn)?;
    }
    Ok(())
}

fn into_deployment((row, version, service): Joined) -> Result<Deployment, StoreError> {
    let service = service.into_domain()?;
    Ok(Deployment {
        id: uuid(&row.id)?,
        release: ReleaseRef {
            id: uuid(&row.release_id)?,
            service: service.clone(),
            version: Version::parse(&version).map_err(corrupt)?,
        },
        context: ContextName::parse(&row.context).map_err(corrupt)?,
        namespace: service.namespace.clone(),
        status: DeploymentStatus::parse(&row.status).map_err(corrupt)?,
        error: row.error,
        created_on: utc(row.created_on),
        created_by: row.created_by,
        started_on: row.started_on.map(utc),
        finished_on: row.finished_on.map(utc),
        rollback: row.rollback != 0,
        auto_rollback: row.auto_rollback != 0,
        rolled_back_by: row.rolled_back_by.as_deref().map(uuid).transpose()?,
        prune: row.prune != 0,
    })
}

fn into_log_entry(row: LogRow) -> Result<LogEntry, StoreError> {
    Ok(LogEntry {
        written_on: utc(row.written_on),
        stream: Stream::parse(&row.stream)
            .ok_or_else(|| StoreError::Corrupt(format!("log stream {:?}", row.stream)))?,
        content: row.content,
    })
}
