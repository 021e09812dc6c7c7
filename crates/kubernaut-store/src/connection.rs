use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, R2D2Connection};

use crate::url::{Backend, DatabaseUrl};

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection.
    Postgresql(PgConnection),
    /// A SQLite connection.
    Sqlite(SqliteConnection),
}

/// Settings applied to every SQLite connection: enforce foreign keys, wait for locks instead of
/// failing at once, and use the write-ahead log so that readers do not block the writer.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                              PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

/// Opens connections for the r2d2 pool, establishing the backend's own connection type so that
/// failures carry the driver's real message.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub(crate) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens one connection; the error is the driver's message.
    pub(crate) fn establish(&self) -> Result<DbConnection, String> {
        let target = self.url.connection_string();
        match self.url.backend() {
            Backend::Postgres => PgConnection::establish(&target)
                .map(DbConnection::Postgresql)
                .map_err(|e| one_line(&e.to_string())),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&target)
                    .map_err(|e| format!("{} ({target})", e.to_string().trim()))?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(|e| format!("{e} ({target})"))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// libpq explains a failure over several lines; a start-up error must be one line, with its
/// sentences kept apart: `... Connection refused; Is the server running ...?`.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The error r2d2 reports when no connection can be opened.
#[derive(Debug)]
pub(crate) struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.establish().map_err(ConnectError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.ping().map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn libpq_lines_become_one_line_of_separate_sentences() {
        assert_eq!(
            one_line(
                "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\
                 \tIs the server running on that host and accepting TCP/IP connections?\n"
            ),
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused; Is the \
             server running on that host and accepting TCP/IP connections?"
        );
    }
}
