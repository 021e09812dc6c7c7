use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One grant of a token, as requests send it and bodies show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// `viewer`, `releaser`, `deployer` or `admin`.
    pub role: String,
    /// A namespace, `*`, or a prefix ending in `*`.
    pub namespace: String,
    /// A context, `*`, or a prefix ending in `*`; `*` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// `POST /api/tokens`. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateToken {
    /// The token's name: 1..=63 of `[a-z0-9._-]`, starting alphanumeric.
    pub name: Option<String>,
    /// 1..=16 grants.
    pub grants: Option<Vec<GrantBody>>,
    /// Days until it expires: 1..=3650, default 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
}

/// A token, without its secret except in the answer that created it. `Debug` leaves the secret
/// out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenBody {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub grants: Vec<GrantBody>,
    /// When it was created.
    pub created_on: String,
    /// Who created it.
    pub created_by: String,
    /// When it expires; `null` for never.
    pub expires_on: Option<String>,
    /// When it was last used (may lag by up to a minute).
    pub last_used_on: Option<String>,
    /// When it was revoked.
    pub revoked_on: Option<String>,
    /// The secret: only in the answer to `POST /api/tokens`, shown this once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl std::fmt::Debug for TokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBody")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("grants", &self.grants)
            .field("created_on", &self.created_on)
            .field("created_by", &self.created_by)
            .field("expires_on", &self.expires_on)
            .field("last_used_on", &self.last_used_on)
            .field("revoked_on", &self.revoked_on)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `GET /api/whoami`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WhoamiBody {
    /// The token's name.
    pub name: String,
    /// Its grants.
    pub grants: Vec<GrantBody>,
    /// When it expires; `null` for never.
    pub expires_on: Option<String>,
}
