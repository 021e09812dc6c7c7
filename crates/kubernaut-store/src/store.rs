use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::Connection;
use diesel::r2d2::{Pool, PooledConnection};
use kubernaut_domain::{
    AuditEvent, ContextName, Delivery, Deployment, DeploymentDetail, DeploymentStatus, Namespace,
    NewAuditEvent, NewDeployment, NewRelease, NewToken, Page, Paged, Release, ReleaseDetail,
    SecretHash, Service, ServiceName, Stream, Token, Version, Visibility,
};
use uuid::Uuid;

use crate::audit::{AuditFilter, Verification};
use crate::connection::{ConnectionManager, DbConnection};
use crate::deployments::Cancellation;
use crate::lanes::{LaneFilter, ServiceLanes};
use crate::outbox::{self, Attempt, AttemptEnd, AttemptRecord, DueDelivery, Outbox, Subscribers};
use crate::queue::{Claim, Progress};
use crate::services::{ServiceDetail, ServiceFilter};
use crate::tokens::TokenFilter;
use crate::url::{Backend, DatabaseUrl};
use crate::{
    DeploymentFilter, ReleaseFilter, StoreError, audit, deployments, lanes, migrations, queue,
    releases, services, tokens,
};

/// How a write ended when it may repeat an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// Something new was stored.
    Created(T),
    /// An identical record existed already and is returned unchanged.
    Existing(T),
}

impl<T> Outcome<T> {
    /// The record, whether new or existing.
    pub fn into_inner(self) -> T {
        match self {
            Outcome::Created(value) | Outcome::Existing(value) => value,
        }
    }
}

/// How a delete (or a revocation) of one record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// No record has this id.
    Unknown,
    /// The record was deleted now.
    Done,
    /// The record was deleted before; nothing changed.
    AlreadyDone,
}

/// A write transaction: what is written through it commits together or not at all (a change
/// and its audit event). Get one from [`Store::transaction`].
pub struct Tx<'a> {
    conn: &'a mut DbConnection,
    outbox: &'a Outbox,
}

impl Tx<'_> {
    /// Stores a release with its service, template and attributes.
    ///
    /// Posting the same release again returns [`Outcome::Existing`]; the same version with a
    /// different template or attributes is a [`StoreError::Conflict`].
    pub fn create_release(
        &mut self,
        new: &NewRelease,
    ) -> Result<Outcome<ReleaseDetail>, StoreError> {
        releases::create(self.conn, new)
    }

    /// Soft-deletes a release, recording who did it.
    pub fn delete_release(&mut self, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
        releases::delete(self.conn, id, by)
    }

    /// Stores a pending deployment with `first_line` as its log. [`StoreError::NotFound`] if
    /// its release does not exist or is deleted.
    pub fn create_deployment(
        &mut self,
        new: &NewDeployment,
        first_line: &str,
    ) -> Result<DeploymentDetail, StoreError> {
        deployments::create(self.conn, new, first_line)
    }

    /// Soft-deletes a deployment (it only hides the record).
    pub fn delete_deployment(&mut self, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
        deployments::delete(self.conn, id, by)
    }

    /// Cancels a pending deployment at once, or asks the worker of a running one to stop.
    pub fn cancel_deployment(&mut self, id: Uuid, by: &str) -> Result<Cancellation, StoreError> {
        deployments::cancel(self.conn, self.outbox, id, by)
    }

    /// Links a failed deployment to the rollback created for it.
    pub fn set_rolled_back_by(&mut self, id: Uuid, rollback: Uuid) -> Result<(), StoreError> {
        deployments::set_rolled_back_by(self.conn, id, rollback)
    }

    /// Stores a token under the hash of its secret. [`StoreError::Conflict`] if a token that
    /// is not revoked has its name.
    pub fn create_token(
        &mut self,
        new: &NewToken,
        secret: &SecretHash,
    ) -> Result<Token, StoreError> {
        tokens::create(self.conn, new, secret)
    }

    /// Revokes a token, recording who did it.
    pub fn revoke_token(&mut self, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
        tokens::revoke(self.conn, id, by)
    }

    /// Stores a browser session of `token` under the hash of its secret, ending at
    /// `expires_on`; deletes the sessions that ended.
    pub fn create_session(
        &mut self,
        secret: &SecretHash,
        token: Uuid,
        expires_on: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tokens::create_session(self.conn, secret, token, expires_on)
    }

    /// Whether a global-admin token was ever created (revoked ones count).
    pub fn global_admin_ever(&mut self) -> Result<bool, StoreError> {
        tokens::global_admin_ever(self.conn)
    }

    /// Appends an event to the audit chain. Appends from every replica are serialized on the
    /// chain's head until the transaction ends: append last, after the change it records.
    pub fn append_audit(&mut self, event: NewAuditEvent) -> Result<AuditEvent, StoreError> {
        audit::append(self.conn, event)
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// How often a transaction that lost a race (unique constraint, SQLite lock) is tried.
const WRITE_ATTEMPTS: u32 = 5;

/// Kubernaut's persistent state on PostgreSQL or SQLite. Cheap to clone; every method blocks,
/// so async callers run it on a blocking thread pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager>,
    url: DatabaseUrl,
    /// On SQLite, writers of this process take turns here. SQLite has one writer at a time,
    /// and a transaction that reads before it writes fails at once with "database is locked"
    /// (its busy timeout does not apply) when another writer holds the lock.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Who hears of deployment events.
    outbox: Outbox,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("url", &self.url).finish()
    }
}

impl Store {
    /// Connects to `url`, applies pending migrations and opens the pool. Fails with the
    /// driver's own message if the database cannot be reached.
    pub fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        let manager = ConnectionManager::new(url.clone());
        let mut conn = manager.establish().map_err(|reason| StoreError::Connect {
            url: url.to_string(),
            reason,
        })?;
        let applied =
            migrations::run_pending(&mut conn).map_err(|reason| StoreError::Migration {
                url: url.to_string(),
                reason,
            })?;
        if applied > 0 {
            log::info!("applied {applied} migration(s) to {url}");
        }
        drop(conn);
        let pool = Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(1))
            .connection_timeout(options.acquire_timeout)
            .error_handler(Box::new(diesel::r2d2::LoggingErrorHandler))
            .build(manager)
            .map_err(|e| StoreError::Connect {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let sqlite_writer = (url.backend() == Backend::Sqlite).then(Arc::default);
        Ok(Self {
            pool,
            url,
            sqlite_writer,
            outbox: Outbox::default(),
        })
    }

    /// This store, storing a delivery for each deployment event `subscribers` want, in the
    /// transaction of the change.
    pub fn with_subscribers(mut self, subscribers: Arc<dyn Subscribers>) -> Self {
        self.outbox = Outbox::new(subscribers);
        self
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// Checks that the database answers within `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        use diesel::r2d2::R2D2Connection;
        let mut conn = self
            .pool
            .get_timeout(timeout)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.ping()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Runs `f` in one transaction, whole again if it lost a race with a concurrent writer
    /// (a unique constraint, SQLite's lock): `f` must be safe to repeat.
    pub fn transaction<T>(
        &self,
        f: impl Fn(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(|conn| {
            f(&mut Tx {
                conn,
                outbox: &self.outbox,
            })
        })
    }

    /// The active release with this id, with its template source.
    pub fn release(&self, id: Uuid) -> Result<Option<ReleaseDetail>, StoreError> {
        releases::get(&mut *self.conn()?, id)
    }

    /// Active releases, newest first.
    pub fn releases(
        &self,
        filter: &ReleaseFilter,
        visible: &Visibility,
        page: Page,
    ) -> Result<Paged<Release>, StoreError> {
        releases::list(&mut *self.conn()?, filter, visible, page)
    }

    /// The namespace of the release with this id, deleted or not: what deleting it is
    /// authorized against.
    pub fn release_namespace(&self, id: Uuid) -> Result<Option<Namespace>, StoreError> {
        releases::namespace_of(&mut *self.conn()?, id)
    }

    /// The namespace and context of the deployment with this id, deleted or not.
    pub fn deployment_scope(
        &self,
        id: Uuid,
    ) -> Result<Option<(Namespace, ContextName)>, StoreError> {
        deployments::scope_of(&mut *self.conn()?, id)
    }

    /// The active release of a service's version, with its template source.
    pub fn release_by_version(
        &self,
        service: &ServiceName,
        namespace: &Namespace,
        version: &Version,
    ) -> Result<Option<ReleaseDetail>, StoreError> {
        releases::find_by_version(&mut *self.conn()?, service, namespace, version)
    }

    /// The active deployment with this id, with its manifest and log.
    pub fn deployment(&self, id: Uuid) -> Result<Option<DeploymentDetail>, StoreError> {
        deployments::get(&mut *self.conn()?, id)
    }

    /// Active deployments, newest first.
    pub fn deployments(
        &self,
        filter: &DeploymentFilter,
        visible: &Visibility,
        page: Page,
    ) -> Result<Paged<Deployment>, StoreError> {
        deployments::list(&mut *self.conn()?, filter, visible, page)
    }

    /// Appends lines to a deployment's log, outside a claim (e.g. after it ended).
    pub fn append_log(&self, id: Uuid, lines: &[(Stream, String)]) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(|conn| deployments::append_log(conn, &id, lines))
    }

    /// Who asked to cancel this deployment, if anyone did: its worker stops then.
    pub fn cancel_requested_by(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        deployments::cancel_requested_by(&mut *self.conn()?, id)
    }

    /// How the newest ended, not deleted deployment of a service to a context ended, and its
    /// release.
    pub fn newest_ended_deployment(
        &self,
        service_id: Uuid,
        context: &ContextName,
    ) -> Result<Option<(DeploymentStatus, Uuid)>, StoreError> {
        deployments::newest_ended(&mut *self.conn()?, service_id, context)
    }

    /// The release of the newest succeeded deployment of a service to a context whose release
    /// is still active, other than `excluding`: what a rollback deploys.
    pub fn last_good_release(
        &self,
        service_id: Uuid,
        context: &ContextName,
        excluding: Option<Uuid>,
    ) -> Result<Option<Uuid>, StoreError> {
        deployments::last_good_release(&mut *self.conn()?, service_id, context, excluding)
    }

    /// How many deployments wait for a worker (all replicas).
    pub fn pending_deployments(&self) -> Result<u64, StoreError> {
        deployments::count_pending(&mut *self.conn()?)
    }

    /// The pool's connections: `(idle, used)`.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.idle_connections,
            state.connections.saturating_sub(state.idle_connections),
        )
    }

    /// Claims up to `max` deployments for `worker`, holding each for `lease` unless renewed:
    /// per service and context the oldest unfinished one, if pending or left by a worker whose
    /// claim lapsed.
    pub fn claim_deployments(
        &self,
        worker: &str,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        queue::claim(&mut conn, &self.outbox, worker, lease, max)
    }

    /// Records progress of a deployment `worker` holds, renewing its claim for `lease`.
    /// `Ok(false)` if the worker no longer holds it.
    pub fn record_progress(
        &self,
        id: Uuid,
        worker: &str,
        lease: Duration,
        progress: &Progress,
    ) -> Result<bool, StoreError> {
        self.write(|conn| queue::record(conn, &self.outbox, id, worker, lease, progress))
    }

    /// Renews every claim `worker` holds for `lease`; returns how many.
    pub fn renew_claims(&self, worker: &str, lease: Duration) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        queue::renew(&mut conn, worker, lease)
    }

    /// The deployments `worker` holds that someone asked to cancel, with who asked: one read
    /// for all of them, however many it watches.
    pub fn cancel_requests(&self, worker: &str) -> Result<Vec<(Uuid, String)>, StoreError> {
        queue::cancel_requests(&mut *self.conn()?, worker)
    }

    /// Lets every claim `worker` holds lapse at once, for a graceful shutdown.
    pub fn release_claims(&self, worker: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        queue::release(&mut conn, worker)
    }

    /// Claims up to `max` due notification deliveries for `sender` for `lease`, none to the
    /// webhooks in `skip`.
    pub fn claim_notifications(
        &self,
        sender: &str,
        lease: Duration,
        max: usize,
        skip: &[String],
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.write(|conn| outbox::claim(conn, sender, lease, max, skip))
    }

    /// Records an attempt of a delivery `sender` holds and what becomes of it. `Ok(false)` if
    /// the sender no longer holds it.
    pub fn record_notification_attempt(
        &self,
        id: Uuid,
        sender: &str,
        attempt: &Attempt,
        end: AttemptEnd,
    ) -> Result<bool, StoreError> {
        self.write(|conn| outbox::record(conn, id, sender, attempt, end))
    }

    /// The notification deliveries of a deployment, oldest first, each with its attempts.
    pub fn notifications(
        &self,
        deployment_id: Uuid,
    ) -> Result<Vec<(Delivery, Vec<AttemptRecord>)>, StoreError> {
        outbox::of_deployment(&mut *self.conn()?, deployment_id)
    }

    /// How many notification deliveries are pending.
    pub fn pending_notifications(&self) -> Result<i64, StoreError> {
        outbox::pending(&mut *self.conn()?)
    }

    /// Services, newest first.
    pub fn services(
        &self,
        filter: &ServiceFilter,
        visible: &Visibility,
        page: Page,
    ) -> Result<Paged<Service>, StoreError> {
        services::list(&mut *self.conn()?, filter, visible, page)
    }

    /// The token of the browser session whose secret has this hash, with when the session
    /// ends: one indexed lookup.
    pub fn token_by_session(
        &self,
        secret: &SecretHash,
    ) -> Result<Option<(Token, DateTime<Utc>)>, StoreError> {
        tokens::by_session(&mut *self.conn()?, secret)
    }

    /// Ends a browser session; whether there was one.
    pub fn end_session(&self, secret: &SecretHash) -> Result<bool, StoreError> {
        tokens::end_session(&mut *self.conn()?, secret)
    }

    /// The visible services matching `filter`, by namespace and name, each with its lanes
    /// (what runs where): two queries.
    pub fn lanes(
        &self,
        filter: &LaneFilter,
        visible: &Visibility,
    ) -> Result<Vec<ServiceLanes>, StoreError> {
        lanes::list(&mut *self.conn()?, filter, visible)
    }

    /// The token whose secret hashes to `secret`, revoked or expired ones included: one
    /// indexed lookup.
    pub fn token_by_secret(&self, secret: &SecretHash) -> Result<Option<Token>, StoreError> {
        tokens::by_secret(&mut *self.conn()?, secret)
    }

    /// The token with this id, revoked or not.
    pub fn token(&self, id: Uuid) -> Result<Option<Token>, StoreError> {
        tokens::get(&mut *self.conn()?, id)
    }

    /// Tokens, newest first.
    pub fn tokens(&self, filter: &TokenFilter, page: Page) -> Result<Paged<Token>, StoreError> {
        tokens::list(&mut *self.conn()?, filter, page)
    }

    /// Records that a token was used at `at`, unless that was already recorded since
    /// `unless_since` (so that a busy token is written at most once a minute). Whether it wrote.
    pub fn touch_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        unless_since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        tokens::touch(&mut conn, id, at, unless_since)
    }

    /// Audit events, newest first.
    pub fn audit_events(
        &self,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEvent>, StoreError> {
        audit::list(&mut *self.conn()?, filter, page)
    }

    /// Checks the audit chain, every event oldest first.
    pub fn verify_audit(&self) -> Result<Verification, StoreError> {
        audit::verify(&mut *self.conn()?)
    }

    /// The service with this id, its latest release and its latest deployment per context.
    pub fn service(&self, id: Uuid) -> Result<Option<ServiceDetail>, StoreError> {
        services::get(&mut *self.conn()?, id)
    }

    /// Waits for this process's turn to write, on SQLite; `None` on PostgreSQL. Take the pooled
    /// connection first, so that a writer waiting for its turn never holds up the one writing.
    fn writer_turn(&self) -> Option<MutexGuard<'_, ()>> {
        self.sqlite_writer
            .as_ref()
            .map(|lock| lock.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn conn(&self) -> Result<PooledConnection<ConnectionManager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in a transaction, retrying it when it lost a race with a concurrent writer.
    fn write<T>(
        &self,
        f: impl Fn(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        let mut attempt = 1;
        loop {
            match conn.transaction(|conn| f(conn)) {
                Err(error) if error.is_retryable() && attempt < WRITE_ATTEMPTS => {
                    log::debug!("retrying a transaction (attempt {attempt}): {error}");
                    thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}
