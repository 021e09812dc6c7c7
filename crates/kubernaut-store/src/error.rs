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
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    /// A lost connection (the server restarted, a backend was terminated, the network broke)
    /// is [`StoreError::Unavailable`]: the pool replaces the connection, the caller may retry.
    fn from(error: diesel::result::Error) -> Self {
        if is_connection_loss(&error) {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Database(error)
        }
    }
}

/// Whether `error` says the connection to the database broke rather than the query failed.
fn is_connection_loss(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    /// How libpq and PostgreSQL word a lost or refused connection (SQLSTATE classes 08 and
    /// 57P0x surface as `Unknown` through diesel).
    const CONNECTION_LOST: [&str; 8] = [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
    ];
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            CONNECTION_LOST.iter().any(|lost| message.contains(lost))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
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
