//! Release queries: create (idempotently), get, list, soft delete.

use std::collections::HashMap;

use diesel::prelude::*;
use kubernaut_domain::{
    Attributes, Namespace, NewRelease, Page, Paged, Release, ReleaseDetail, ServiceName,
    TemplateRef, TemplateSource, Version, Visibility,
};
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::models::{
    AttributeRow, NewTemplateRow, ReleaseRow, ServiceRow, TemplateRefRow, corrupt, now, utc, uuid,
};
use crate::schema::{release_attributes, releases, services, templates};
use crate::services::{find_or_insert_service, matching_services};
use crate::store::Deletion;
use crate::{Outcome, StoreError};

/// Exact-match filters of the release list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseFilter {
    /// Only releases of services with this name.
    pub service: Option<ServiceName>,
    /// Only releases of services in this namespace.
    pub namespace: Option<Namespace>,
    /// Only this version.
    pub version: Option<Version>,
}

pub(crate) fn create(
    conn: &mut DbConnection,
    new: &NewRelease,
) -> Result<Outcome<ReleaseDetail>, StoreError> {
    let service = find_or_insert_service(conn, &new.service, &new.namespace)?;
    let existing = releases::table
        .filter(releases::service_id.eq(&service.id))
        .filter(releases::version.eq(new.version.as_str()))
        .filter(releases::deleted_on.is_null())
        .select(ReleaseRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(row) = existing {
        let existing = detail(conn, row, service)?;
        return same_release(existing, new).map(Outcome::Existing);
    }

    let checksum = new.template.checksum();
    let template_id = find_or_insert_template(conn, &new.template, checksum.as_str())?;
    let row = ReleaseRow {
        id: Uuid::now_v7().to_string(),
        service_id: service.id.clone(),
        version: new.version.to_string(),
        template_id: template_id.clone(),
        created_on: now(),
        created_by: new.created_by.clone(),
    };
    diesel::insert_into(releases::table)
        .values(&row)
        .execute(conn)?;
    let attributes: Vec<AttributeRow> = new
        .attributes
        .iter()
        .map(|(name, value)| AttributeRow {
            release_id: row.id.clone(),
            name: name.to_owned(),
            value: value.to_owned(),
        })
        .collect();
    insert_attributes(conn, &attributes)?;
    diesel::update(services::table.find(&service.id))
        .set(services::active_releases.eq(services::active_releases + 1))
        .execute(conn)?;

    let release = Release {
        id: uuid(&row.id)?,
        service: service.into_domain()?,
        version: new.version.clone(),
        template: TemplateRef {
            id: uuid(&template_id)?,
            checksum,
        },
        attributes: new.attributes.clone(),
        created_on: utc(row.created_on),
        created_by: row.created_by,
    };
    Ok(Outcome::Created(ReleaseDetail {
        release,
        source: new.template.clone(),
    }))
}

/// The existing release if `new` repeats it exactly; a conflict naming the difference if not.
fn same_release(existing: ReleaseDetail, new: &NewRelease) -> Result<ReleaseDetail, StoreError> {
    let what = if existing.source != new.template {
        "template"
    } else if existing.release.attributes != new.attributes {
        "attributes"
    } else {
        return Ok(existing);
    };
    Err(StoreError::Conflict(format!(
        "release {} of service {} in namespace {} already exists with different {what}; \
         release a new version instead",
        new.version, new.service, new.namespace
    )))
}

fn find_or_insert_template(
    conn: &mut DbConnection,
    source: &TemplateSource,
    checksum: &str,
) -> Result<String, StoreError> {
    let found = templates::table
        .filter(templates::checksum.eq(checksum))
        .select(templates::id)
        .first::<String>(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(templates::table)
        .values(NewTemplateRow {
            id: &id,
            checksum,
            source: source.as_str(),
            created_on: now(),
        })
        .execute(conn)?;
    Ok(id)
}

/// Inserts all attribute rows in one statement. Batch inserts are backend-specific in diesel's
/// `MultiConnection`, hence the match.
fn insert_attributes(conn: &mut DbConnection, rows: &[AttributeRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let insert = diesel::insert_into(release_attributes::table).values(rows);
    match conn {
        DbConnection::Postgresql(conn) => insert.execute(conn),
        DbConnection::Sqlite(conn) => insert.execute(conn),
    }
}

/// The active release of a service's version: the service, then its release, each through its
/// unique index. (As one join, PostgreSQL could start from the releases of the version, all of
/// them when every service releases `1`, when its statistics were older than a burst of
/// releases.)
pub(crate) fn find_by_version(
    conn: &mut DbConnection,
    service: &ServiceName,
    namespace: &Namespace,
    version: &Version,
) -> Result<Option<ReleaseDetail>, StoreError> {
    let Some(service) = services::table
        .filter(services::name.eq(service.as_str()))
        .filter(services::namespace.eq(namespace.as_str()))
        .select(ServiceRow::as_select())
        .first::<ServiceRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let found = releases::table
        .filter(releases::service_id.eq(&service.id))
        .filter(releases::version.eq(version.as_str()))
        .filter(releases::deleted_on.is_null())
        .select(ReleaseRow::as_select())
        .first::<ReleaseRow>(conn)
        .optional()?;
    found.map(|row| detail(conn, row, service)).transpose()
}

pub(crate) fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<ReleaseDetail>, StoreError> {
    let found = releases::table
        .inner_join(services::table)
        .filter(releases::id.eq(id.to_string()))
        .filter(releases::deleted_on.is_null())
        .select((ReleaseRow::as_select(), ServiceRow::as_select()))
        .first::<(ReleaseRow, ServiceRow)>(conn)
        .optional()?;
    found
        .map(|(row, service)| detail(conn, row, service))
        .transpose()
}

fn detail(
    conn: &mut DbConnection,
    row: ReleaseRow,
    service: ServiceRow,
) -> Result<ReleaseDetail, StoreError> {
    let (template, source) = templates::table
        .find(&row.template_id)
        .select((TemplateRefRow::as_select(), templates::source))
        .first::<(TemplateRefRow, String)>(conn)?;
    let mut attributes = load_attributes(conn, std::slice::from_ref(&row.id))?;
    let attributes = attributes.remove(&row.id).unwrap_or_default();
    Ok(ReleaseDetail {
        release: into_release(row, service, template, attributes)?,
        source: TemplateSource::parse(source).map_err(corrupt)?,
    })
}

pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &ReleaseFilter,
    visible: &Visibility,
    page: Page,
) -> Result<Paged<Release>, StoreError> {
    let empty = Paged {
        items: Vec::new(),
        count: 0,
        limit: page.limit(),
        offset: page.offset(),
    };
    let restricted = *visible != Visibility::All;
    let scope = if filter.service.is_some() || filter.namespace.is_some() || restricted {
        let services = matching_services(
            conn,
            filter.service.as_ref(),
            filter.namespace.as_ref(),
            visible,
        )?;
        if services.is_empty() {
            return Ok(empty);
        }
        Some(services)
    } else {
        None
    };

    let count = match (&filter.version, &scope) {
        (Some(version), _) => {
            let mut query = releases::table
                .filter(releases::deleted_on.is_null())
                .filter(releases::version.eq(version.as_str()))
                .into_boxed();
            if let Some(services) = &scope {
                query = query.filter(releases::service_id.eq_any(services.iter().map(|s| &s.0)));
            }
            query.count().get_result::<i64>(conn)?
        }
        (None, Some(services)) => services.iter().map(|s| s.1).sum(),
        (None, None) => services::table
            .select(services::active_releases)
            .load::<i64>(conn)?
            .into_iter()
            .sum(),
    };

    let mut query = releases::table
        .inner_join(services::table)
        .inner_join(templates::table)
        .filter(releases::deleted_on.is_null())
        .into_boxed();
    if let Some(version) = &filter.version {
        query = query.filter(releases::version.eq(version.as_str()));
    }
    // One service (the usual filter) is an equality, so that the (service_id, created_on, id)
    // index delivers the page in order; `= ANY` would read and sort all its releases.
    match scope.as_deref() {
        Some([(service, _)]) => query = query.filter(releases::service_id.eq(service.clone())),
        Some(services) => {
            query = query.filter(releases::service_id.eq_any(services.iter().map(|s| s.0.clone())));
        }
        None => {}
    }
    let rows = query
        .order((releases::created_on.desc(), releases::id.desc()))
        .limit(i64::from(page.limit()))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .select((
            ReleaseRow::as_select(),
            ServiceRow::as_select(),
            TemplateRefRow::as_select(),
        ))
        .load::<(ReleaseRow, ServiceRow, TemplateRefRow)>(conn)?;

    let ids: Vec<String> = rows.iter().map(|(r, _, _)| r.id.clone()).collect();
    let mut attributes = load_attributes(conn, &ids)?;
    let items = rows
        .into_iter()
        .map(|(row, service, template)| {
            let attrs = attributes.remove(&row.id).unwrap_or_default();
            into_release(row, service, template, attrs)
        })
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        count: u64::try_from(count).unwrap_or(0),
        ..empty
    })
}

/// The latest active release of a service.
pub(crate) fn latest_of_service(
    conn: &mut DbConnection,
    service: ServiceRow,
) -> Result<Option<Release>, StoreError> {
    let found = releases::table
        .inner_join(templates::table)
        .filter(releases::service_id.eq(&service.id))
        .filter(releases::deleted_on.is_null())
        .order((releases::created_on.desc(), releases::id.desc()))
        .select((ReleaseRow::as_select(), TemplateRefRow::as_select()))
        .first::<(ReleaseRow, TemplateRefRow)>(conn)
        .optional()?;
    let Some((row, template)) = found else {
        return Ok(None);
    };
    let attributes = load_attributes(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    into_release(row, service, template, attributes).map(Some)
}

/// The namespace of the release with this id, deleted or not.
pub(crate) fn namespace_of(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<Namespace>, StoreError> {
    releases::table
        .inner_join(services::table)
        .filter(releases::id.eq(id.to_string()))
        .select(services::namespace)
        .first::<String>(conn)
        .optional()?
        .map(|namespace| Namespace::parse(&namespace).map_err(corrupt))
        .transpose()
}

/// Soft-deletes a release; deleting a deleted release changes nothing.
pub(crate) fn delete(conn: &mut DbConnection, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
    let id = id.to_string();
    let service_id = releases::table
        .find(&id)
        .select((releases::service_id, releases::deleted_on.is_null()))
        .first::<(String, bool)>(conn)
        .optional()?;
    let Some((service_id, active)) = service_id else {
        return Ok(Deletion::Unknown);
    };
    if !active {
        return Ok(Deletion::AlreadyDone);
    }
    {
        let deleted = diesel::update(releases::table.find(&id))
            .filter(releases::deleted_on.is_null())
            .set((releases::deleted_on.eq(now()), releases::deleted_by.eq(by)))
            .execute(conn)?;
        if deleted == 1 {
            diesel::update(services::table.find(&service_id))
                .set(services::active_releases.eq(services::active_releases - 1))
                .execute(conn)?;
        }
    }
    Ok(Deletion::Done)
}

fn load_attributes(
    conn: &mut DbConnection,
    release_ids: &[String],
) -> Result<HashMap<String, Vec<(String, String)>>, StoreError> {
    let mut by_release: HashMap<String, Vec<(String, String)>> = HashMap::new();
    if release_ids.is_empty() {
        return Ok(by_release);
    }
    let rows = release_attributes::table
        .filter(release_attributes::release_id.eq_any(release_ids))
        .select(AttributeRow::as_select())
        .load(conn)?;
    for row in rows {
        by_release
            .entry(row.release_id)
            .or_default()
            .push((row.name, row.value));
    }
    Ok(by_release)
}

fn into_release(
    row: ReleaseRow,
    service: ServiceRow,
    template: TemplateRefRow,
    attributes: Vec<(String, String)>,
) -> Result<Release, StoreError> {
    Ok(Release {
        id: uuid(&row.id)?,
        service: service.into_domain()?,
        version: Version::parse(&row.version).map_err(corrupt)?,
        template: TemplateRef {
            id: uuid(&template.id)?,
            checksum: kubernaut_domain::Checksum::from_stored(template.checksum),
        },
        attributes: Attributes::parse(attributes).map_err(corrupt)?,
        created_on: utc(row.created_on),
        created_by: row.created_by,
    })
}
