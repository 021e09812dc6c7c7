//! Rows as stored, and their conversion into domain values.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use kubernaut_domain::{Namespace, Service, ServiceName, ValidationError};
use uuid::Uuid;

use crate::StoreError;
use crate::schema::{
    deployment_log, deployments, release_attributes, releases, services, templates,
};

/// Now, truncated to the microseconds both backends keep, so that what is written reads back
/// the same.
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros())
        .unwrap_or(now)
        .naive_utc()
}

pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub(crate) fn uuid(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id {id:?}: {e}")))
}

pub(crate) fn corrupt(error: ValidationError) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub(crate) struct ServiceRow {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub created_on: NaiveDateTime,
}

impl ServiceRow {
    pub(crate) fn into_domain(self) -> Result<Service, StoreError> {
        Ok(Service {
            id: uuid(&self.id)?,
            name: ServiceName::parse(&self.name).map_err(corrupt)?,
            namespace: Namespace::parse(&self.namespace).map_err(corrupt)?,
            created_on: utc(self.created_on),
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = templates)]
pub(crate) struct NewTemplateRow<'a> {
    pub id: &'a str,
    pub checksum: &'a str,
    pub source: &'a str,
    pub created_on: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = templates)]
pub(crate) struct TemplateRefRow {
    pub id: String,
    pub checksum: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = releases)]
pub(crate) struct ReleaseRow {
    pub id: String,
    pub service_id: String,
    pub version: String,
    pub template_id: String,
    pub created_on: NaiveDateTime,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = release_attributes)]
pub(crate) struct AttributeRow {
    pub release_id: String,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deployments)]
pub(crate) struct DeploymentRow {
    pub id: String,
    pub release_id: String,
    pub service_id: String,
    pub context: String,
    pub status: String,
    pub error: Option<String>,
    pub created_on: NaiveDateTime,
    pub created_by: String,
    pub started_on: Option<NaiveDateTime>,
    pub finished_on: Option<NaiveDateTime>,
    pub rollback: i32,
    pub auto_rollback: i32,
    pub rolled_back_by: Option<String>,
    pub prune: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deployments)]
pub(crate) struct NewDeploymentRow<'a> {
    pub id: &'a str,
    pub release_id: &'a str,
    pub service_id: &'a str,
    pub context: &'a str,
    pub manifest: &'a str,
    pub status: &'a str,
    pub created_on: NaiveDateTime,
    pub created_by: &'a str,
    pub rollback: i32,
    pub auto_rollback: i32,
    pub prune: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deployment_log)]
pub(crate) struct LogRow {
    pub deployment_id: String,
    pub seq: i32,
    pub written_on: NaiveDateTime,
    pub stream: String,
    pub content: String,
}
