//! Kubernaut's persistence: one diesel code path for PostgreSQL and SQLite.
//!
//! The backend is chosen from the database URL's scheme ([`DatabaseUrl`]); queries are written
//! once against [`DbConnection`], diesel's `MultiConnection` over both backends, and match on
//! the backend only where diesel's common subset ends (batch inserts, migrations). Migrations
//! for each backend live in `migrations/postgres` and `migrations/sqlite` at the workspace root,
//! are embedded in the binary and run by [`Store::open`].
//!
//! Every method of [`Store`] blocks: async callers run it on a blocking thread pool.

mod audit;
mod connection;
mod deployments;
mod error;
mod lanes;
mod migrations;
mod models;
mod outbox;
mod queue;
mod releases;
mod schema;
mod services;
mod store;
#[cfg(feature = "test-support")]
pub mod testing;
mod tokens;
mod url;

pub use audit::{AuditFilter, Verification};
pub use connection::DbConnection;
pub use deployments::{Cancellation, DeploymentFilter};
pub use error::StoreError;
pub use lanes::{Lane, LaneFilter, ServiceLanes};
pub use outbox::{Attempt, AttemptEnd, AttemptRecord, DueDelivery, NewDelivery, Subscribers};
pub use queue::{Claim, MAX_ATTEMPTS, Progress};
pub use releases::ReleaseFilter;
pub use services::{ServiceDetail, ServiceFilter};
pub use store::{Deletion, Outcome, Store, StoreOptions, Tx};
pub use tokens::TokenFilter;
pub use url::{Backend, DatabaseUrl};
