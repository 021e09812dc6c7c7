//! Request and response bodies, as API.md spells them (camelCase, RFC 3339 UTC timestamps).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use kubernaut_domain::{Attributes, Paged, Release, ReleaseDetail, Service};
use kubernaut_store::ServiceDetail;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `POST /api/releases` as JSON. Unknown fields are refused, so that a typo is not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// The service's name.
    pub service: Option<String>,
    /// The namespace (default `default`).
    pub namespace: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The mustache manifest template.
    pub template: Option<String>,
    /// String attributes rendered into the template.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A service as embedded in other bodies.
#[derive(Debug, Serialize)]
pub struct ServiceRef {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

impl From<&Service> for ServiceRef {
    fn from(service: &Service) -> Self {
        Self {
            id: service.id,
            name: service.name.to_string(),
            namespace: service.namespace.to_string(),
        }
    }
}

/// A release's template; `source` only when one release is shown.
#[derive(Debug, Serialize)]
pub struct TemplateBody {
    /// Its id.
    pub id: Uuid,
    /// The sha256 of its source.
    pub checksum: String,
    /// The mustache source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A release.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseBody {
    /// Its id.
    pub id: Uuid,
    /// The service released.
    pub service: ServiceRef,
    /// The version.
    pub version: String,
    /// The template.
    pub template: TemplateBody,
    /// The attributes.
    pub attributes: Attributes,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
}

impl ReleaseBody {
    /// A release without its template source, as lists show it.
    pub fn summary(release: Release) -> Self {
        Self {
            id: release.id,
            service: ServiceRef::from(&release.service),
            version: release.version.to_string(),
            template: TemplateBody {
                id: release.template.id,
                checksum: release.template.checksum.to_string(),
                source: None,
            },
            attributes: release.attributes,
            created_on: timestamp(release.created_on),
            created_by: release.created_by,
        }
    }

    /// A release with its template source.
    pub fn detail(detail: ReleaseDetail) -> Self {
        let mut body = Self::summary(detail.release);
        body.template.source = Some(detail.source.as_str().to_owned());
        body
    }
}

/// A service in the service list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBody {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// When its first release created it.
    pub created_on: String,
}

impl From<Service> for ServiceBody {
    fn from(service: Service) -> Self {
        Self {
            id: service.id,
            name: service.name.to_string(),
            namespace: service.namespace.to_string(),
            created_on: timestamp(service.created_on),
        }
    }
}

/// A service with its latest release.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetailBody {
    /// The service.
    #[serde(flatten)]
    pub service: ServiceBody,
    /// Its newest active release, without template source; `null` if it has none.
    pub latest_release: Option<ReleaseBody>,
}

impl From<ServiceDetail> for ServiceDetailBody {
    fn from(detail: ServiceDetail) -> Self {
        Self {
            service: detail.service.into(),
            latest_release: detail.latest_release.map(ReleaseBody::summary),
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// How many items match, ignoring limit and offset.
    pub count: u64,
    /// The page size.
    pub limit: u32,
    /// How many items were skipped.
    pub offset: u64,
}

impl<T> PageBody<T> {
    /// Converts a domain page, mapping its items.
    pub fn from_paged<U>(paged: Paged<U>, f: impl FnMut(U) -> T) -> Self {
        let paged = paged.map(f);
        Self {
            items: paged.items,
            count: paged.count,
            limit: paged.limit,
            offset: paged.offset,
        }
    }
}
