//! The directory `et record` writes and `et replay` reads.
//!
//! Each exchange has a number, counted up in the order requests arrived,
//! and up to three files named after it: `000001.request` and
//! `000001.reply`, the bodies exactly as they crossed the wire (ET's
//! envelopes, whose sensitive parts are sealed anyway), and
//! `000001.meta.json` ([`Meta`]), written last: an exchange without it is
//! still in flight or was cut off. The directory is created 0700, every
//! file 0600, each written atomically without following a symbolic link
//! and never over an existing file (et-sandbox's one writer).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use et_sandbox::files::{self, Existing};
use serde::{Deserialize, Serialize};

use crate::error::{CliResult, Failure};

/// Claims tried past numbers another writer took, before giving up.
const MAX_CLAIMS: u32 = 1000;

/// One of an exchange's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The request body as received.
    Request,
    /// The upstream's reply body as received.
    Reply,
    /// The [`Meta`] file.
    Meta,
}

impl Part {
    fn suffix(self) -> &'static str {
        match self {
            Part::Request => ".request",
            Part::Reply => ".reply",
            Part::Meta => ".meta.json",
        }
    }
}

/// What `N.meta.json` says about an exchange besides its bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// When the request arrived: Beijing time, as ET writes times.
    pub time: String,
    /// Where it was forwarded.
    pub upstream: String,
    /// The upstream's HTTP status; absent when no complete answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why no complete answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The request envelope's `server_type`, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    /// The request envelope's `serial_number`, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

/// A recording directory.
#[derive(Debug)]
pub(crate) struct Recording {
    dir: PathBuf,
    /// The next number to try.
    next: AtomicU64,
}

impl Recording {
    /// Opens `dir` for recording, creating it 0700 if missing; numbering
    /// continues after the highest number already there.
    pub(crate) fn create(dir: &Path) -> CliResult<Self> {
        files::create_private_dir(dir).map_err(|e| Failure::usage(e).context(dir.display()))?;
        let highest = numbers_in(dir, |_| true)?.last().copied().unwrap_or(0);
        Ok(Self {
            dir: dir.to_owned(),
            next: AtomicU64::new(highest + 1),
        })
    }

    /// Stores `request` under the next free number and returns it. A number
    /// whose request file exists (another recorder on the same directory)
    /// is skipped, never overwritten.
    pub(crate) fn claim(&self, request: &[u8]) -> io::Result<u64> {
        for _ in 0..MAX_CLAIMS {
            let number = self.next.fetch_add(1, Ordering::SeqCst);
            match self.write(number, Part::Request, request) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                written => return written.map(|()| number),
            }
        }
        Err(io::Error::other(format!(
            "{MAX_CLAIMS} numbers in a row were already taken in {}",
            self.dir.display()
        )))
    }

    /// Stores one part of exchange `number` (0600, never over a file).
    pub(crate) fn write(&self, number: u64, part: Part, bytes: &[u8]) -> io::Result<()> {
        let path = path(&self.dir, number, part);
        files::write_atomically(&path, bytes, files::OWNER_ONLY, Existing::Refuse)
    }

    /// Stores exchange `number`'s [`Meta`], which completes it.
    pub(crate) fn write_meta(&self, number: u64, meta: &Meta) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        self.write(number, Part::Meta, &json)
    }
}

/// The file of `part` of exchange `number` in `dir`.
pub(crate) fn path(dir: &Path, number: u64, part: Part) -> PathBuf {
    dir.join(format!("{number:06}{}", part.suffix()))
}

/// The numbers of the complete exchanges in `dir` (those with a meta
/// file), in order.
pub(crate) fn complete_exchanges(dir: &Path) -> CliResult<Vec<u64>> {
    numbers_in(dir, |part| part == Part::Meta)
}

/// The numbers of `dir`'s exchange files whose part passes `keep`, in
/// order, each once. Other files are ignored.
fn numbers_in(dir: &Path, keep: impl Fn(Part) -> bool) -> CliResult<Vec<u64>> {
    let listed = std::fs::read_dir(dir).map_err(|e| Failure::usage(e).context(dir.display()))?;
    let mut numbers = Vec::new();
    for entry in listed {
        let entry = entry.map_err(|e| Failure::usage(e).context(dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let number = [Part::Request, Part::Reply, Part::Meta]
            .into_iter()
            .filter(|&part| keep(part))
            .find_map(|part| name.strip_suffix(part.suffix()))
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u64>().ok());
        numbers.extend(number);
    }
    numbers.sort_unstable();
    numbers.dedup();
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_continues_after_the_highest_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Recording::create(dir.path()).expect("create");
        assert_eq!(first.claim(b"one").expect("claim"), 1);
        // A second recorder on the same directory starts after 1; the
        // first, behind it, skips the number the second took.
        let second = Recording::create(dir.path()).expect("create");
        assert_eq!(second.claim(b"two").expect("claim"), 2);
        assert_eq!(first.claim(b"three").expect("claim"), 3);
        let read = |n| std::fs::read(path(dir.path(), n, Part::Request)).expect("read");
        assert_eq!(
            (read(1), read(2), read(3)),
            (b"one".to_vec(), b"two".to_vec(), b"three".to_vec())
        );
        assert!(complete_exchanges(dir.path()).expect("list").is_empty());
        let meta = Meta {
            time: "2024-12-01 10:00:00".into(),
            upstream: "http://127.0.0.1:1/server".into(),
            status: Some(200),
            error: None,
            server_type: None,
            serial_number: None,
        };
        first.write_meta(3, &meta).expect("meta");
        std::fs::write(dir.path().join("notes.meta.json"), "{}").expect("write");
        assert_eq!(complete_exchanges(dir.path()).expect("list"), [3]);
    }
}
