use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use diesel::Connection;
use diesel::r2d2::{Pool, PooledConnection};
use kubernaut_domain::{
    Deployment, DeploymentDetail, Namespace, NewDeployment, NewRelease, Page, Paged, Release,
    ReleaseDetail, Service, ServiceName, Version,
};
use uuid::Uuid;

use crate::connection::{ConnectionManager, DbConnection};
use crate::queue::{Claim, Progress};
use crate::services::{ServiceDetail, ServiceFilter};
use crate::url::{Backend, DatabaseUrl};
use crate::{
    DeploymentFilter, ReleaseFilter, StoreError, deployments, migrations, queue, releases, services,
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
        })
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
        conn.ping()?;
        Ok(())
    }

    /// Stores a release with its service, template and attributes in one transaction.
    ///
    /// Posting the same release again returns [`Outcome::Existing`]; the same version with a
    /// different template or attributes is a [`StoreError::Conflict`]. Concurrent identical
    /// calls end with one release, which every caller gets.
    pub fn create_release(&self, new: &NewRelease) -> Result<Outcome<ReleaseDetail>, StoreError> {
        self.write(|conn| releases::create(conn, new))
    }

    /// The active release with this id, with its template source.
    pub fn release(&self, id: Uuid) -> Result<Option<ReleaseDetail>, StoreError> {
        releases::get(&mut *self.conn()?, id)
    }

    /// Active releases, newest first.
    pub fn releases(
        &self,
        filter: &ReleaseFilter,
        page: Page,
    ) -> Result<Paged<Release>, StoreError> {
        releases::list(&mut *self.conn()?, filter, page)
    }

    /// Soft-deletes a release, recording who did it. `Ok(false)` if the id is unknown;
    /// deleting a deleted release is `Ok(true)` and changes nothing.
    pub fn delete_release(&self, id: Uuid, by: &str) -> Result<bool, StoreError> {
        self.write(|conn| releases::delete(conn, id, by))
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

    /// Stores a pending deployment with `first_line` as its log, in one transaction.
    /// [`StoreError::NotFound`] if its release does not exist or is deleted.
    pub fn create_deployment(
        &self,
        new: &NewDeployment,
        first_line: &str,
    ) -> Result<DeploymentDetail, StoreError> {
        self.write(|conn| deployments::create(conn, new, first_line))
    }

    /// The active deployment with this id, with its manifest and log.
    pub fn deployment(&self, id: Uuid) -> Result<Option<DeploymentDetail>, StoreError> {
        deployments::get(&mut *self.conn()?, id)
    }

    /// Active deployments, newest first.
    pub fn deployments(
        &self,
        filter: &DeploymentFilter,
        page: Page,
    ) -> Result<Paged<Deployment>, StoreError> {
        deployments::list(&mut *self.conn()?, filter, page)
    }

    /// Soft-deletes a deployment (it only hides the record). `Ok(false)` if the id is unknown.
    pub fn delete_deployment(&self, id: Uuid, by: &str) -> Result<bool, StoreError> {
        self.write(|conn| deployments::delete(conn, id, by))
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
        queue::claim(&mut conn, worker, lease, max)
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
        self.write(|conn| queue::record(conn, id, worker, lease, progress))
    }

    /// Renews every claim `worker` holds for `lease`; returns how many.
    pub fn renew_claims(&self, worker: &str, lease: Duration) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        queue::renew(&mut conn, worker, lease)
    }

    /// Lets every claim `worker` holds lapse at once, for a graceful shutdown.
    pub fn release_claims(&self, worker: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn();
        queue::release(&mut conn, worker)
    }

    /// Services, newest first.
    pub fn services(
        &self,
        filter: &ServiceFilter,
        page: Page,
    ) -> Result<Paged<Service>, StoreError> {
        services::list(&mut *self.conn()?, filter, page)
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
