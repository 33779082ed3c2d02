//! ET's key and the notification salt rotated, the old ones accepted for a
//! window, so that a merchant can rehearse a rollover: after a rotation
//! the sandbox signs replies with its new key and notifications with the
//! new salt, and until the window ends it still opens requests sealed to
//! its old key and takes refund replies signed with the old salt.
//!
//! In the state directory the old key is `et-private.previous.pem` and the
//! window's end and the old salt are in `rotation.json` (0600), so a
//! restart within the window keeps accepting them. The window is sandbox
//! time, as every other deadline: advancing the clock past its end ends it.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use et_crypto::{PrivateKey, Zeroizing};
use et_proto::{Accepted, EtSide, Profile};
use serde::{Deserialize, Serialize};

use crate::app::CLOCK_KEY;
use crate::clock::Clock;
use crate::config::{SandboxDir, DATABASE, ET_PRIVATE_PEM, ET_PUBLIC_PEM};
use crate::files::{self, Existing};
use crate::store::Store;
use crate::Error;

/// ET's previous private key (PKCS#8 PEM), accepted until the window ends.
pub const PREVIOUS_ET_PRIVATE_PEM: &str = "et-private.previous.pem";
/// The window's end and the previous salt.
pub const ROTATION_JSON: &str = "rotation.json";

/// The names the merchant's `verified_by` shows for the sandbox's keys
/// and salts are the merchant's own; these name them in the sandbox's logs.
const PREVIOUS: &str = "previous";

/// What a rotation made: ET's new public key (for the merchant), the new
/// salt, and until when the old ones are accepted.
pub struct Rotated {
    /// ET's new public key, SPKI PEM (also in `et-public.pem`).
    pub et_public_pem: String,
    /// The new notification salt (also in `merchant.json`).
    pub salt: Zeroizing<String>,
    /// The old key and salt are accepted until then.
    pub not_after: SystemTime,
}

impl std::fmt::Debug for Rotated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotated")
            .field("salt", &"<redacted>")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct RotationFile {
    /// Milliseconds since the Unix epoch.
    not_after_ms: u64,
    previous_salt: String,
}

/// ET's previous key and the previous salt, while their window lasts.
pub(crate) struct Previous {
    key: Accepted<PrivateKey>,
    salt: Accepted<Zeroizing<String>>,
}

impl SandboxDir {
    /// Rotates ET's key (a new one of the same size) and the salt in the
    /// state directory, keeping the old ones for `window`. For a sandbox
    /// that is not running (the directory's lock is taken); a running one
    /// rotates with [`RunningSandbox::rotate`](crate::RunningSandbox::rotate).
    ///
    /// # Errors
    /// [`Error::Locked`] while a sandbox serves the directory; [`Error::Io`],
    /// [`Error::Key`], [`Error::Config`] as for the files read and written.
    pub fn rotate(&self, window: Duration) -> Result<Rotated, Error> {
        let _lock = crate::lock::lock(self.root())?;
        self.rotate_files(window, self.resumed_time()?)
    }

    /// [`rotate`](Self::rotate) at sandbox time `now`, under a lock the
    /// caller holds.
    pub(crate) fn rotate_files(&self, window: Duration, now: SystemTime) -> Result<Rotated, Error> {
        let old_key = crate::keys::load_private(&self.file(ET_PRIVATE_PEM))?;
        let mut merchant = self.merchant()?;
        let not_after = now + window;
        let write = |name: &str, bytes: &[u8], mode| {
            let path = self.file(name);
            files::write_atomically(&path, bytes, mode, Existing::Replace)
                .map_err(|e| Error::io(&path, e))
        };
        let pem = |key: &PrivateKey, name: &str| {
            key.to_pkcs8_pem()
                .map_err(|e| Error::key(&self.file(name), e))
        };
        write(
            PREVIOUS_ET_PRIVATE_PEM,
            pem(&old_key, PREVIOUS_ET_PRIVATE_PEM)?.as_bytes(),
            files::OWNER_ONLY,
        )?;
        let rotation = RotationFile {
            not_after_ms: unix_ms(not_after),
            previous_salt: merchant.salt.to_string(),
        };
        let json = Zeroizing::new(serde_json::to_vec(&rotation).unwrap_or_default());
        write(ROTATION_JSON, &json, files::OWNER_ONLY)?;
        let new_key = PrivateKey::generate(old_key.bits())
            .map_err(|e| Error::key(&self.file(ET_PRIVATE_PEM), e))?;
        let et_public_pem = new_key
            .to_spki_pem()
            .map_err(|e| Error::key(&self.file(ET_PUBLIC_PEM), e))?;
        write(
            ET_PRIVATE_PEM,
            pem(&new_key, ET_PRIVATE_PEM)?.as_bytes(),
            files::OWNER_ONLY,
        )?;
        write(ET_PUBLIC_PEM, et_public_pem.as_bytes(), files::PUBLIC)?;
        merchant.salt = Zeroizing::new(crate::keys::random_salt());
        self.write_merchant(&merchant, Existing::Replace)?;
        Ok(Rotated {
            et_public_pem,
            salt: merchant.salt,
            not_after,
        })
    }

    /// Sandbox time as a sandbox serving this directory would start at:
    /// the later of real time and the time its database saved.
    fn resumed_time(&self) -> Result<SystemTime, Error> {
        let path = self.file(DATABASE);
        let saved = match path.exists() {
            true => Store::open(&path)?.tx(|c| crate::store::meta(c, CLOCK_KEY))?,
            false => None,
        };
        let saved = saved.and_then(|t| t.parse().ok()).unwrap_or(0);
        Clock::new(1.0, saved)
            .map(|clock| clock.system_time())
            .map_err(|e| Error::Config {
                path,
                reason: e.to_string(),
            })
    }

    /// The previous key and salt, when a rotation's window has not ended
    /// at sandbox time `now`.
    pub(crate) fn previous(&self, now: SystemTime) -> Result<Option<Previous>, Error> {
        let path = self.file(ROTATION_JSON);
        if !path.exists() {
            return Ok(None);
        }
        let text = Zeroizing::new(
            files::read_file_bounded(&path, files::MAX_KEY_FILE)
                .map_err(|e| Error::io(&path, e))?,
        );
        let file: RotationFile = serde_json::from_slice(&text).map_err(|e| Error::Config {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let not_after = UNIX_EPOCH + Duration::from_millis(file.not_after_ms);
        if now > not_after {
            return Ok(None);
        }
        let key = crate::keys::load_private(&self.file(PREVIOUS_ET_PRIVATE_PEM))?;
        Ok(Some(Previous {
            key: Accepted::new(PREVIOUS, key).until(not_after),
            salt: Accepted::new(PREVIOUS, Zeroizing::new(file.previous_salt)).until(not_after),
        }))
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    let ms = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// ET's side as the sandbox plays it now, and the previous salt: swapped
/// whole by a rotation while requests are served.
pub(crate) struct EtKeys(RwLock<Arc<Keys>>);

/// One generation of ET's keys.
pub(crate) struct Keys {
    /// ET's side: the current key, and the previous one while accepted.
    pub(crate) et: EtSide,
    /// The previous salt while accepted (refund replies).
    pub(crate) previous_salt: Option<Accepted<Zeroizing<String>>>,
}

impl EtKeys {
    /// ET with `key` (and `previous`, while its window lasts), speaking `profile`.
    pub(crate) fn new(key: PrivateKey, previous: Option<Previous>, profile: Profile) -> Self {
        EtKeys(RwLock::new(Arc::new(Keys::new(key, previous, profile))))
    }

    /// The keys in use now.
    pub(crate) fn current(&self) -> Arc<Keys> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `key` and `previous` in use for every later request.
    pub(crate) fn replace(&self, key: PrivateKey, previous: Option<Previous>) {
        let profile = self.current().et.profile().clone();
        let keys = Arc::new(Keys::new(key, previous, profile));
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = keys;
    }
}

impl Keys {
    fn new(key: PrivateKey, previous: Option<Previous>, profile: Profile) -> Self {
        let mut et = EtSide::new(key, profile);
        let mut previous_salt = None;
        if let Some(previous) = previous {
            et = et.accepting_key(previous.key);
            previous_salt = Some(previous.salt);
        }
        Keys { et, previous_salt }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotations_window_ends_at_its_sandbox_time_whatever_the_real_time() {
        let tmp = tempfile::tempdir().expect("a directory");
        SandboxDir::init_small(tmp.path());
        let dir = SandboxDir::new(tmp.path());
        // A sandbox clock ahead of real time (2033), as after an advance;
        // whole seconds, as `rotation.json` keeps milliseconds.
        let now = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let window = Duration::from_secs(3_600);
        let rotated = dir.rotate_files(window, now).expect("rotated");
        assert_eq!(rotated.not_after, now + window);
        let second = Duration::from_secs(1);
        let before = dir.previous(rotated.not_after - second).expect("read");
        let previous = before.expect("accepted before the window ends");
        assert_eq!(previous.key.not_after, Some(rotated.not_after));
        assert_eq!(previous.salt.not_after, Some(rotated.not_after));
        let after = dir.previous(rotated.not_after + second).expect("read");
        assert!(after.is_none(), "the window ended");
    }
}
