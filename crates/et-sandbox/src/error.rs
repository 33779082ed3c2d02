//! [`Error`]: what can stop a sandbox from being set up or started.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything that can stop a sandbox from being set up or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// A key file could not be generated, written or loaded.
    Key {
        /// The key file.
        path: PathBuf,
        /// The crypto layer's reason (never key material).
        source: et_crypto::Error,
    },
    /// A configuration file or value is invalid.
    Config {
        /// The file (or setting) at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database failed.
    Database(rusqlite::Error),
    /// Another sandbox is serving this state directory (it holds the
    /// exclusive lock on [`LOCK_FILE`](crate::LOCK_FILE)); two would deliver every
    /// notification twice.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// `sandbox.db` has a schema version (`PRAGMA user_version`) this
    /// sandbox does not know: written by a newer sandbox. It is left as it
    /// is; run the newer sandbox, or start from a fresh state directory.
    SchemaVersion {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest version this sandbox knows.
        known: i64,
    },
    /// The listen address is not a loopback address, and the
    /// configuration did not ask for [`Exposure::Network`](crate::Exposure::Network): other machines
    /// would reach the dashboard (decrypted payloads) and the admin routes.
    NotLoopback {
        /// The address.
        addr: SocketAddr,
    },
    /// The listen address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn key(path: &Path, source: et_crypto::Error) -> Self {
        Error::Key {
            path: path.to_owned(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Key { path, source } => write!(f, "key {}: {source}", path.display()),
            Error::Config { path, reason } => write!(f, "{}: {reason}", path.display()),
            Error::Database(e) => write!(f, "sandbox database: {e}"),
            Error::Locked { path } => write!(
                f,
                "{}: another sandbox is already serving this state directory; stop it first",
                path.display()
            ),
            Error::SchemaVersion { path, found, known } => write!(
                f,
                "{}: schema version {found}, but this sandbox knows versions up to {known}; \
                 it was written by a newer sandbox",
                path.display()
            ),
            Error::NotLoopback { addr } => write!(
                f,
                "{addr} is not a loopback address: other machines would reach the dashboard \
                 (decrypted payloads) and the admin routes; allow it explicitly \
                 (Exposure::Network, `et sandbox serve --expose`), and they then need the \
                 secret the sandbox prints at start"
            ),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Bind { source, .. } => Some(source),
            Error::Key { source, .. } => Some(source),
            Error::Database(e) => Some(e),
            Error::Config { .. }
            | Error::Locked { .. }
            | Error::SchemaVersion { .. }
            | Error::NotLoopback { .. } => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(e)
    }
}
