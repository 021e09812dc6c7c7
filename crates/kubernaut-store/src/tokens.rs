//! Token queries: create, look up by secret hash, list, revoke, and note their use; the
//! browser sessions a token logs in to.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use kubernaut_domain::{
    Grant, Grants, NewToken, Page, Paged, SecretHash, Token, TokenName, ValidationError,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreError;
use crate::connection::DbConnection;
use crate::models::{corrupt, now, utc, uuid};
use crate::schema::{sessions, tokens};
use crate::store::Deletion;

/// Exact-match filters of the token list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    /// Only tokens with this name.
    pub name: Option<TokenName>,
    /// Only revoked tokens (`Some(true)`) or only tokens not revoked (`Some(false)`).
    pub revoked: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: String,
    name: String,
    grants: String,
    created_on: NaiveDateTime,
    created_by: String,
    expires_on: Option<NaiveDateTime>,
    last_used_on: Option<NaiveDateTime>,
    revoked_on: Option<NaiveDateTime>,
}

/// A grant as stored in the `grants` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredGrant {
    role: String,
    namespace: String,
    context: String,
}

fn grants_json(grants: &Grants) -> String {
    let stored: Vec<StoredGrant> = grants
        .iter()
        .map(|g| StoredGrant {
            role: g.role.to_string(),
            namespace: g.namespace.to_string(),
            context: g.context.to_string(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_grants(json: &str) -> Result<Grants, StoreError> {
    let stored: Vec<StoredGrant> = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("token grants {json:?}: {e}")))?;
    let grants = stored
        .iter()
        .map(|g| Grant::parse(&g.role, &g.namespace, Some(&g.context)))
        .collect::<Result<Vec<_>, ValidationError>>()
        .map_err(corrupt)?;
    Grants::new(grants).map_err(corrupt)
}

impl TokenRow {
    fn into_domain(self) -> Result<Token, StoreError> {
        Ok(Token {
            id: uuid(&self.id)?,
            name: TokenName::parse(&self.name).map_err(corrupt)?,
            grants: parse_grants(&self.grants)?,
            created_on: utc(self.created_on),
            created_by: self.created_by,
            expires_on: self.expires_on.map(utc),
            last_used_on: self.last_used_on.map(utc),
            revoked_on: self.revoked_on.map(utc),
        })
    }
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    DateTime::from_timestamp_micros(at.timestamp_micros())
        .unwrap_or(at)
        .naive_utc()
}

pub(crate) fn create(
    conn: &mut DbConnection,
    new: &NewToken,
    secret: &SecretHash,
) -> Result<Token, StoreError> {
    let taken = tokens::table
        .filter(tokens::name.eq(new.name.as_str()))
        .filter(tokens::revoked_on.is_null())
        .select(tokens::id)
        .first::<String>(conn)
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "a token named {} exists already; revoke it first or choose another name",
            new.name
        )));
    }
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(tokens::table)
        .values((
            tokens::id.eq(&id),
            tokens::name.eq(new.name.as_str()),
            tokens::secret_hash.eq(secret.as_str()),
            tokens::grants.eq(grants_json(&new.grants)),
            tokens::global_admin.eq(i32::from(new.grants.is_global_admin())),
            tokens::created_on.eq(now()),
            tokens::created_by.eq(&new.created_by),
            tokens::expires_on.eq(new.expires_on.map(naive)),
        ))
        .execute(conn)?;
    get(conn, uuid(&id)?)?
        .ok_or_else(|| StoreError::Corrupt(format!("token {id} vanished after its insert")))
}

/// Whether a global-admin token was ever created (revoked ones count).
pub(crate) fn global_admin_ever(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(tokens::table
        .filter(tokens::global_admin.eq(1))
        .select(tokens::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

pub(crate) fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Token>, StoreError> {
    tokens::table
        .find(id.to_string())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .map(TokenRow::into_domain)
        .transpose()
}

/// The token whose secret hashes to `secret`, revoked or not: one lookup by a unique index.
pub(crate) fn by_secret(
    conn: &mut DbConnection,
    secret: &SecretHash,
) -> Result<Option<Token>, StoreError> {
    tokens::table
        .filter(tokens::secret_hash.eq(secret.as_str()))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .map(TokenRow::into_domain)
        .transpose()
}

/// Sets `lastUsedOn` to `at` unless it was written since `unless_since`; whether it wrote.
pub(crate) fn touch(
    conn: &mut DbConnection,
    id: Uuid,
    at: DateTime<Utc>,
    unless_since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(tokens::table.find(id.to_string()))
        .filter(
            tokens::last_used_on
                .is_null()
                .or(tokens::last_used_on.lt(naive(unless_since))),
        )
        .set(tokens::last_used_on.eq(naive(at)))
        .execute(conn)?;
    Ok(updated == 1)
}

pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &TokenFilter,
    page: Page,
) -> Result<Paged<Token>, StoreError> {
    let filtered = || {
        let mut query = tokens::table.into_boxed();
        if let Some(name) = &filter.name {
            query = query.filter(tokens::name.eq(name.as_str().to_owned()));
        }
        match filter.revoked {
            Some(true) => query = query.filter(tokens::revoked_on.is_not_null()),
            Some(false) => query = query.filter(tokens::revoked_on.is_null()),
            None => {}
        }
        query
    };
    let count = filtered().count().get_result::<i64>(conn)?;
    let items = filtered()
        .order((tokens::created_on.desc(), tokens::id.desc()))
        .limit(i64::from(page.limit()))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .select(TokenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TokenRow::into_domain)
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        count: u64::try_from(count).unwrap_or(0),
        limit: page.limit(),
        offset: page.offset(),
    })
}

/// Revokes a token, recording who did it.
pub(crate) fn revoke(conn: &mut DbConnection, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
    let id = id.to_string();
    let revoked = tokens::table
        .find(&id)
        .select(tokens::revoked_on.is_not_null())
        .first::<bool>(conn)
        .optional()?;
    match revoked {
        None => Ok(Deletion::Unknown),
        Some(true) => Ok(Deletion::AlreadyDone),
        Some(false) => {
            diesel::update(tokens::table.find(&id))
                .filter(tokens::revoked_on.is_null())
                .set((tokens::revoked_on.eq(now()), tokens::revoked_by.eq(by)))
                .execute(conn)?;
            diesel::delete(sessions::table.filter(sessions::token_id.eq(&id))).execute(conn)?;
            Ok(Deletion::Done)
        }
    }
}

/// Stores a session of token `token` under the hash of its secret, ending at `expires_on`;
/// sessions that ended are deleted on the way.
pub(crate) fn create_session(
    conn: &mut DbConnection,
    secret: &SecretHash,
    token: Uuid,
    expires_on: DateTime<Utc>,
) -> Result<(), StoreError> {
    let created_on = now();
    diesel::delete(sessions::table.filter(sessions::expires_on.le(created_on))).execute(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(secret.as_str()),
            sessions::token_id.eq(token.to_string()),
            sessions::created_on.eq(created_on),
            sessions::expires_on.eq(naive(expires_on)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The token of the session whose secret has this hash, with when the session ends; `None`
/// when there is no such session.
pub(crate) fn by_session(
    conn: &mut DbConnection,
    secret: &SecretHash,
) -> Result<Option<(Token, DateTime<Utc>)>, StoreError> {
    sessions::table
        .inner_join(tokens::table)
        .filter(sessions::id.eq(secret.as_str()))
        .select((TokenRow::as_select(), sessions::expires_on))
        .first::<(TokenRow, NaiveDateTime)>(conn)
        .optional()?
        .map(|(token, expires_on)| Ok((token.into_domain()?, utc(expires_on))))
        .transpose()
}

/// Ends the session whose secret has this hash; whether there was one.
pub(crate) fn end_session(
    conn: &mut DbConnection,
    secret: &SecretHash,
) -> Result<bool, StoreError> {
    let deleted =
        diesel::delete(sessions::table.filter(sessions::id.eq(secret.as_str()))).execute(conn)?;
    Ok(deleted > 0)
}
