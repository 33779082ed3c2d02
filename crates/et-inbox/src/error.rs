//! What can go wrong in the inbox.

use std::fmt;

/// An inbox operation that did not complete. Nothing was acknowledged,
/// marked done or set aside unless the operation returned `Ok`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite store failed.
    Sqlite(rusqlite::Error),
    /// The PostgreSQL store failed (connection, query or transaction).
    Postgres(tokio_postgres::Error),
    /// The claim on this event expired and another consumer claimed it (or
    /// it was already marked): this consumer must not mark it. With
    /// [`PgCompletion`](crate::PgCompletion) the merchant's writes were
    /// rolled back.
    LeaseLost {
        /// The event's row id.
        id: i64,
    },
    /// The database's schema is newer than this version knows.
    SchemaTooNew {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The reconciler's order query failed.
    Query(et_http::Error),
    /// A blocking SQLite task did not finish (it panicked or was cancelled).
    Task(tokio::task::JoinError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(_) => f.write_str("SQLite inbox store failed"),
            Self::Postgres(_) => f.write_str("PostgreSQL inbox store failed"),
            Self::LeaseLost { id } => write!(
                f,
                "the claim on inbox event {id} expired and it was claimed again; not marked"
            ),
            Self::SchemaTooNew { found, known } => write!(
                f,
                "inbox schema version {found} is newer than this build knows ({known})"
            ),
            Self::Query(_) => f.write_str("reconciliation query to ET failed"),
            Self::Task(_) => f.write_str("SQLite inbox task did not finish"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Sqlite(e) => Some(e),
            Self::Postgres(e) => Some(e),
            Self::Query(e) => Some(e),
            Self::Task(e) => Some(e),
            Self::LeaseLost { .. } | Self::SchemaTooNew { .. } => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Postgres(e)
    }
}
