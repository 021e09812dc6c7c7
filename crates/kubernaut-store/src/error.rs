use thiserror::Error;

/// What can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL names no supported backend or cannot be parsed.
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, with any password masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to database {url}: {reason}")]
    Connect {
        /// The URL, with any password masked.
        url: String,
        /// The driver's own explanation.
        reason: String,
    },
    /// Running the embedded migrations failed.
    #[error("cannot migrate database {url}: {reason}")]
    Migration {
        /// The URL, with any password masked.
        url: String,
        /// The migration error.
        reason: String,
    },
    /// No pooled connection could be had in time: the database is down or overloaded.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The write conflicts with existing state (e.g. the same release version with another
    /// template).
    #[error("{0}")]
    Conflict(String),
    /// The write refers to something that does not exist (or was deleted meanwhile).
    #[error("{0}")]
    NotFound(String),
    /// A stored row no longer passes the domain's validation.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

impl StoreError {
    /// Whether retrying the whole transaction may succeed: a unique-constraint race with a
    /// concurrent writer, or SQLite's lock contention.
    pub(crate) fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Database(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                true
            }
            StoreError::Database(Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                _,
            )) => true,
            StoreError::Database(Error::DatabaseError(_, info)) => {
                info.message().contains("database is locked")
            }
            _ => false,
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}
