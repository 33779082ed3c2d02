//! One sandbox per state directory: an exclusive advisory lock on
//! `sandbox.lock`, held as long as the sandbox runs. Two sandboxes on one
//! database would both deliver every notification.

use std::fs::File;
use std::path::Path;

use crate::{files, Error};

/// The lock file in the state directory.
pub const LOCK_FILE: &str = "sandbox.lock";

/// The held lock; released when dropped (or when the process exits, however
/// it exits: the kernel drops advisory locks with their file).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the directory's lock, or fails at once with
/// [`Error::Locked`] when another sandbox holds it.
pub(crate) fn lock(dir: &Path) -> Result<DirLock, Error> {
    let path = dir.join(LOCK_FILE);
    // Owner-only and never through a symbolic link, like every file of the
    // state directory: a planted link would have the sandbox create, and
    // lock, whatever file it names; a readable lock file lets anyone hold
    // the lock.
    let file =
        files::create_with_mode(&path, files::OWNER_ONLY).map_err(|e| Error::io(&path, e))?;
    try_lock_exclusive(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock => Error::Locked { path: path.clone() },
        _ => Error::io(&path, e),
    })?;
    Ok(DirLock { _file: file })
}

#[cfg(unix)]
fn try_lock_exclusive(file: &File) -> std::io::Result<()> {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::NonBlockingLockExclusive).map_err(|e| {
        if e == rustix::io::Errno::WOULDBLOCK {
            std::io::ErrorKind::WouldBlock.into()
        } else {
            std::io::Error::from(e)
        }
    })
}

/// Elsewhere the directory is not locked (the sandbox targets Unix).
#[cfg(not(unix))]
fn try_lock_exclusive(_: &File) -> std::io::Result<()> {
    Ok(())
}
