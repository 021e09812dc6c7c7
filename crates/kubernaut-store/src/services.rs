//! Service queries.

use diesel::prelude::*;
use diesel::sql_types::Bool;
use kubernaut_domain::{
    Deployment, Namespace, Page, Paged, Pattern, Release, Service, ServiceName, Visibility,
};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::models::{ServiceRow, now};
use crate::schema::services;
use crate::{deployments, releases};

/// Exact-match filters of the service list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFilter {
    /// Only services with this name.
    pub name: Option<ServiceName>,
    /// Only services in this namespace.
    pub namespace: Option<Namespace>,
}

/// A service with its latest active release and its latest deployment per context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetail {
    /// The service.
    pub service: Service,
    /// Its newest release that is not deleted, if any.
    pub latest_release: Option<Release>,
    /// Its newest deployment that is not deleted, per context, by context name.
    pub latest_deployments: Vec<Deployment>,
}

pub(crate) fn find_or_insert_service(
    conn: &mut DbConnection,
    name: &ServiceName,
    namespace: &Namespace,
) -> Result<ServiceRow, StoreError> {
    let found = services::table
        .filter(services::name.eq(name.as_str()))
        .filter(services::namespace.eq(namespace.as_str()))
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(row) = found {
        return Ok(row);
    }
    let row = ServiceRow {
        id: Uuid::now_v7().to_string(),
        name: name.to_string(),
        namespace: namespace.to_string(),
        created_on: now(),
    };
    diesel::insert_into(services::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The backend of [`DbConnection`], for boxed expressions.
type Db = <DbConnection as Connection>::Backend;

/// A condition on `services.namespace`, in a query over `QS`.
type NamespaceCondition<QS> = Box<dyn BoxableExpression<QS, Db, SqlType = Bool>>;

/// The SQL condition of the namespaces `visible` holds: exact names in one `IN`, each prefix a
/// `LIKE` (namespace patterns hold only `[a-z0-9-]`, so no `LIKE` wildcard needs escaping).
/// `None` when every namespace is visible.
pub(crate) fn visible_namespaces<QS: 'static>(
    visible: &Visibility,
) -> Option<NamespaceCondition<QS>>
where
    services::namespace: SelectableExpression<QS>,
{
    let Visibility::Matching(patterns) = visible else {
        return None;
    };
    let exact: Vec<String> = patterns
        .iter()
        .filter_map(|p| match p {
            Pattern::Exact(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut condition: NamespaceCondition<QS> = Box::new(services::namespace.eq_any(exact));
    for pattern in patterns {
        match pattern {
            Pattern::Prefix(prefix) => {
                condition = Box::new(condition.or(services::namespace.like(format!("{prefix}%"))));
            }
            Pattern::Any => return None,
            Pattern::Exact(_) => {}
        }
    }
    Some(condition)
}

/// Ids and active release counts of the visible services matching the filters.
pub(crate) fn matching_services(
    conn: &mut DbConnection,
    name: Option<&ServiceName>,
    namespace: Option<&Namespace>,
    visible: &Visibility,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut query = services::table
        .select((services::id, services::active_releases))
        .into_boxed();
    if let Some(condition) = visible_namespaces(visible) {
        query = query.filter(condition);
    }
    if let Some(name) = name {
        query = query.filter(services::name.eq(name.as_str()));
    }
    if let Some(namespace) = namespace {
        query = query.filter(services::namespace.eq(namespace.as_str()));
    }
    Ok(query.load(conn)?)
}

pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &ServiceFilter,
    visible: &Visibility,
    page: Page,
) -> Result<Paged<Service>, StoreError> {
    let filtered = || {
        let mut query = services::table.into_boxed();
        if let Some(condition) = visible_namespaces(visible) {
            query = query.filter(condition);
        }
        if let Some(name) = &filter.name {
            query = query.filter(services::name.eq(name.as_str()));
        }
        if let Some(namespace) = &filter.namespace {
            query = query.filter(services::namespace.eq(namespace.as_str()));
        }
        query
    };
    let count = filtered().count().get_result::<i64>(conn)?;
    let items = filtered()
        .order((services::created_on.desc(), services::id.desc()))
        .limit(i64::from(page.limit()))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .select(ServiceRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ServiceRow::into_domain)
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        count: u64::try_from(count).unwrap_or(0),
        limit: page.limit(),
        offset: page.offset(),
    })
}

pub(crate) fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<ServiceDetail>, StoreError> {
    let found = services::table
        .find(id.to_string())
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    let latest_release = releases::latest_of_service(conn, row.clone())?;
    let latest_deployments = deployments::latest_per_context(conn, &row.id)?;
    Ok(Some(ServiceDetail {
        service: row.into_domain()?,
        latest_release,
        latest_deployments,
    }))
}
