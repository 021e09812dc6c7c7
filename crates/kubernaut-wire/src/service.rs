use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DeploymentBody, ReleaseBody};

/// A service as embedded in other bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRef {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

/// A service in the service list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A service with its latest release and its latest deployment per context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetailBody {
    /// The service.
    #[serde(flatten)]
    pub service: ServiceBody,
    /// Its newest active release, without template source; `null` if it has none.
    pub latest_release: Option<ReleaseBody>,
    /// Its newest active deployment to each context, keyed by context name, without manifest
    /// and log; `{}` if it has none.
    pub latest_deployments: BTreeMap<String, DeploymentBody>,
}
