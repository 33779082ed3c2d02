//! Writing files that hold secrets, and reading any file with a size bound.
//!
//! Every secret file (private keys, `merchant.json` with the notification
//! salt) and every other file the sandbox and the `et` command write goes
//! through [`write_atomically`]: the bytes go to a fresh temporary file in the
//! same directory, created exclusively (`O_CREAT|O_EXCL`), never through a
//! symbolic link (`O_NOFOLLOW`), with its mode set explicitly (so the umask
//! cannot widen it), synced, then moved into place. A symbolic link planted
//! at the destination is replaced, never written through; a reader never sees
//! a half-written file; an existing file is replaced only when the caller
//! says so ([`Existing::Replace`]), and atomically refused otherwise.
//!
//! [`read_bounded`] is the one way inputs are read: it stops one byte past
//! its limit, so `/dev/zero` or an endless pipe ends in [`TooLarge`] instead
//! of exhausting memory.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Mode of a file only its owner may read: private keys, salts, databases.
pub const OWNER_ONLY: u32 = 0o600;
/// Mode of a file anyone may read: public keys, the rate table.
pub const PUBLIC: u32 = 0o644;
/// Mode of a state directory.
pub const PRIVATE_DIR: u32 = 0o700;

/// The most read from a key file (a 4096-bit private key in PEM is about 3.3 KB).
pub const MAX_KEY_FILE: u64 = 64 << 10;
/// The most read from a configuration file (`merchant.json`, `sandbox.json`).
pub const MAX_CONFIG_FILE: u64 = 1 << 20;

/// What [`write_atomically`] does when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it untouched and fail with [`io::ErrorKind::AlreadyExists`]
    /// (a symbolic link there counts as existing, even a dangling one).
    Refuse,
    /// Replace it (a symbolic link is itself replaced, never followed).
    Replace,
}

/// Writes `bytes` to `path` with exactly `mode` (Unix permission bits),
/// atomically, through an exclusively created temporary file next to it.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    existing: Existing,
) -> io::Result<()> {
    let (dir, name) = split(path)?;
    let (tmp, mut file) = create_temporary(dir, name, mode)?;
    let placed = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| match existing {
            Existing::Replace => fs::rename(&tmp, path),
            // A hard link never replaces anything: the check and the write are one step.
            Existing::Refuse => fs::hard_link(&tmp, path),
        });
    // After a rename there is nothing left to remove; otherwise the
    // temporary name goes (the data stays under `path` when linked).
    if existing == Existing::Refuse || placed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    placed?;
    sync_dir(dir);
    Ok(())
}

/// Creates `dir` and any missing parents with [`PRIVATE_DIR`] (0700), umask
/// notwithstanding. An existing directory keeps its mode: it may be the
/// user's own (`--out .`).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
    builder.create(dir)?;
    // The umask may have narrowed the mode further; set it exactly.
    #[cfg(unix)]
    fs::set_permissions(
        dir,
        std::os::unix::fs::PermissionsExt::from_mode(PRIVATE_DIR),
    )?;
    Ok(())
}

/// Opens `path` for writing, creating it with `mode` if missing, never
/// through a symbolic link, and sets `mode` on it (an older file written
/// with a wider mode is narrowed). For files another library then opens by
/// name, such as SQLite's database: SQLite gives its `-wal` and `-shm` files
/// the database file's mode.
pub fn create_with_mode(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    no_follow(&mut options, mode);
    let file = options.open(path)?;
    set_mode(&file, mode)?;
    Ok(file)
}

/// An input was longer than the limit it is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The limit, in bytes.
    pub limit: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "longer than the {}-byte limit", self.limit)
    }
}

impl std::error::Error for TooLarge {}

/// Reads `reader` to its end, but at most `limit` bytes: one byte more is an
/// [`io::ErrorKind::InvalidData`] error carrying [`TooLarge`].
pub fn read_bounded(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            TooLarge { limit },
        ));
    }
    Ok(buf)
}

/// [`read_bounded`] on the file at `path`.
pub fn read_file_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_bounded(File::open(path)?, limit)
}

/// The limit that `error` reports, if it is a [`read_bounded`] overflow.
pub fn too_large(error: &io::Error) -> Option<TooLarge> {
    error.get_ref()?.downcast_ref::<TooLarge>().copied()
}

fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// `.NAME.RANDOM.tmp` in `dir`, created exclusively with `mode`; a name
/// already taken (even by a symbolic link) is skipped, never opened.
fn create_temporary(dir: &Path, name: &std::ffi::OsStr, mode: u32) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..8 {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{:016x}.tmp", rand::random::<u64>()));
        let tmp = dir.join(tmp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        no_follow(&mut options, mode);
        match options.open(&tmp) {
            Ok(file) => {
                set_mode(&file, mode)?;
                return Ok((tmp, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)))
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions, mode: u32) {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(mode).custom_flags(libc::O_NOFOLLOW);
}

#[cfg(not(unix))]
fn no_follow(_: &mut OpenOptions, _: u32) {}

/// The mode exactly, whatever the umask took away when the file was created.
#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: u32) -> io::Result<()> {
    Ok(())
}

/// Makes the new name durable. Best effort: not every platform or file
/// system can sync a directory, and the data itself is already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn a_secret_is_written_owner_only_with_no_temporary_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        write_atomically(&path, b"s3cret", OWNER_ONLY, Existing::Refuse).expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"s3cret");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn an_existing_file_is_refused_or_replaced_with_a_fresh_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        fs::write(&path, b"old").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err =
            write_atomically(&path, b"new", OWNER_ONLY, Existing::Refuse).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).expect("read"), b"old", "untouched");
        write_atomically(&path, b"new", OWNER_ONLY, Existing::Replace).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(mode(&path), 0o600, "the old 0644 is not kept");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_symlink_at_the_destination_is_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        fs::write(&target, b"victim").expect("write");
        let link = dir.path().join("private.pem");
        symlink(&target, &link).expect("symlink");
        let err =
            write_atomically(&link, b"key", OWNER_ONLY, Existing::Refuse).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        let dangling = dir.path().join("dangling.pem");
        symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
        write_atomically(&dangling, b"key", OWNER_ONLY, Existing::Refuse).expect_err("refused");
        assert!(
            !dir.path().join("nowhere").exists(),
            "not created through the link"
        );
        write_atomically(&link, b"key", OWNER_ONLY, Existing::Replace).expect("replace");
        assert_eq!(
            fs::read(&target).expect("read"),
            b"victim",
            "target untouched"
        );
        assert!(!fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&link).expect("read"), b"key");
    }

    #[test]
    fn create_with_mode_refuses_a_symlink_and_narrows_an_old_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("db");
        symlink(dir.path().join("elsewhere"), &link).expect("symlink");
        assert!(create_with_mode(&link, OWNER_ONLY).is_err());
        assert!(!dir.path().join("elsewhere").exists());
        let old = dir.path().join("old.db");
        fs::write(&old, b"").expect("write");
        fs::set_permissions(&old, fs::Permissions::from_mode(0o666)).expect("chmod");
        create_with_mode(&old, OWNER_ONLY).expect("open");
        assert_eq!(mode(&old), 0o600);
    }

    #[test]
    fn private_dirs_are_0700() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).expect("create");
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        assert_eq!(read_bounded(&b"12345"[..], 5).expect("fits"), b"12345");
        let err = read_bounded(io::repeat(0), 1 << 20).expect_err("endless");
        assert_eq!(too_large(&err), Some(TooLarge { limit: 1 << 20 }));
        assert_eq!(err.to_string(), "longer than the 1048576-byte limit");
        let zero = read_file_bounded(Path::new("/dev/zero"), 4096).expect_err("endless");
        assert_eq!(too_large(&zero), Some(TooLarge { limit: 4096 }));
    }
}
