//! Throw-away databases for tests (feature `test-support`): each test gets its own SQLite file
//! or its own PostgreSQL database, dropped when the handle is.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

use kubernaut_domain::{DeploymentDetail, NewDeployment, NewRelease, ReleaseDetail};

use crate::{Deletion, Outcome, Store, StoreError, StoreOptions};

/// Writes without audit events, each in its own transaction, for tests that need records to
/// exist. The shared operations (`kubernaut-app`) pair every real write with its audit event.
pub trait Writes {
    /// Stores a release (see [`crate::Tx::create_release`]).
    fn create_release(&self, new: &NewRelease) -> Result<Outcome<ReleaseDetail>, StoreError>;
    /// Soft-deletes a release.
    fn delete_release(&self, id: Uuid, by: &str) -> Result<Deletion, StoreError>;
    /// Stores a pending deployment.
    fn create_deployment(
        &self,
        new: &NewDeployment,
        first_line: &str,
    ) -> Result<DeploymentDetail, StoreError>;
    /// Soft-deletes a deployment.
    fn delete_deployment(&self, id: Uuid, by: &str) -> Result<Deletion, StoreError>;
}

impl Writes for Store {
    fn create_release(&self, new: &NewRelease) -> Result<Outcome<ReleaseDetail>, StoreError> {
        self.transaction(|tx| tx.create_release(new))
    }

    fn delete_release(&self, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
        self.transaction(|tx| tx.delete_release(id, by))
    }

    fn create_deployment(
        &self,
        new: &NewDeployment,
        first_line: &str,
    ) -> Result<DeploymentDetail, StoreError> {
        self.transaction(|tx| tx.create_deployment(new, first_line))
    }

    fn delete_deployment(&self, id: Uuid, by: &str) -> Result<Deletion, StoreError> {
        self.transaction(|tx| tx.delete_deployment(id, by))
    }
}

/// The environment variable naming the PostgreSQL server that tests may create databases on,
/// e.g. `postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres`.
pub const TEST_DATABASE_URL_ENV: &str = "KUBERNAUT_TEST_DATABASE_URL";

/// A database that exists as long as this handle.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code, reason = "deletes the directory when dropped")] TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite database in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = TempDir::new().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("kubernaut.db").display());
        Self {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new, empty PostgreSQL database on the server named by `KUBERNAUT_TEST_DATABASE_URL`.
    ///
    /// # Panics
    /// If the variable is unset or the server refuses to create the database.
    pub fn postgres() -> Self {
        let admin_url = std::env::var(TEST_DATABASE_URL_ENV).unwrap_or_else(|_| {
            panic!("needs PostgreSQL: set {TEST_DATABASE_URL_ENV} to a server URL")
        });
        let name = format!("kubernaut_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("connect to {TEST_DATABASE_URL_ENV}: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
        Self {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens (and migrates) the database.
    pub fn open(&self) -> Store {
        Store::open(&self.url, &StoreOptions::default()).expect("open the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let dropped = PgConnection::establish(admin_url)
                .map_err(|e| e.to_string())
                .and_then(|mut admin| {
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = dropped {
                eprintln!("could not drop test database {name}: {e}");
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut result = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// SQL statements run so far by connections opened after [`count_queries`], but for the pool's
/// `SELECT 1` that checks a connection out.
static QUERIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts every SQL statement (but the pool's check-out ping) that connections opened from now
/// on run, in this whole process
/// (so a test that reads [`queries`] should be alone in its test binary). Call it before
/// opening the store.
pub fn count_queries() {
    use diesel::connection::{InstrumentationEvent, set_default_instrumentation};
    let installed = set_default_instrumentation(|| {
        Some(Box::new(|event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event
                && !query.to_string().starts_with("SELECT 1 --")
            {
                QUERIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }))
    });
    installed.expect("diesel's default instrumentation");
}

/// How many statements the connections counted by [`count_queries`] have run.
pub fn queries() -> u64 {
    QUERIES.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "t1"),
            "postgres://u:p@h:5432/t1"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgres:///postgres?host=/var/run/postgresql", "t1"),
            "postgres:///t1?host=/var/run/postgresql"
        );
    }
}
