//! The merchant's side of a state directory: what a merchant's code needs
//! to talk to the sandbox as it would to ET.

use std::path::Path;

use et_crypto::{PublicKey, SharedKey};
use et_proto::{Credentials, Profile};

use crate::config::{SandboxDir, ET_PUBLIC_PEM, MERCHANT_PRIVATE_PEM};
use crate::{files, keys, Error};

/// The notification salt alone, for `--salt-file` (`et sandbox init` writes
/// it; `merchant.json` stays the directory's record of it).
pub const SALT_TXT: &str = "salt.txt";

/// The directory's merchant as ET would issue it: merchant numbers, the
/// merchant's private key, ET's public key and the notification salt, and
/// the profile the sandbox plays.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use et_http::{Client, Endpoint};
/// use et_sandbox::SandboxMerchant;
///
/// // After `et sandbox init --dir sandbox/` and `et sandbox serve --dir sandbox/`.
/// let merchant = SandboxMerchant::load("sandbox/")?;
/// let endpoint = Endpoint::parse("http://127.0.0.1:8877/server")?;
/// let client = Client::new(endpoint, merchant.credentials, merchant.profile)?;
/// let verifier = client.merchant().notification_verifier();
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct SandboxMerchant {
    /// From `merchant.json`, `merchant-private.pem` and `et-public.pem`.
    pub credentials: Credentials,
    /// From `profile.json`, the sandbox's own codes named
    /// ([`SandboxDir::profile`]).
    pub profile: Profile,
}

impl SandboxMerchant {
    /// Reads the merchant of the state directory `dir` (made by
    /// [`SandboxDir::init`] or `et sandbox init`), its key from
    /// `merchant-private.pem`.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Key`] or [`Error::Config`], naming the file.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::read(dir.as_ref(), |dir| {
            keys::load_private(&dir.file(MERCHANT_PRIVATE_PEM)).map(SharedKey::new)
        })
    }

    /// Reads the merchant of `dir` as [`load`](Self::load) does, but
    /// signing with `merchant_key` (a key on a token, or one the directory
    /// adopted: `et sandbox init --merchant-key`); `merchant-private.pem`
    /// is not read.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_with_key(
        dir: impl AsRef<Path>,
        merchant_key: impl Into<SharedKey>,
    ) -> Result<Self, Error> {
        let merchant_key = merchant_key.into();
        Self::read(dir.as_ref(), |_| Ok(merchant_key))
    }

    /// The directory's merchant with the key `merchant_key` gives.
    fn read(
        dir: &Path,
        merchant_key: impl FnOnce(&SandboxDir) -> Result<SharedKey, Error>,
    ) -> Result<Self, Error> {
        let dir = SandboxDir::new(dir);
        let merchant = dir.merchant()?;
        let et_public = dir.file(ET_PUBLIC_PEM);
        let et_public_key = PublicKey::load(keys::load_public(&et_public)?.as_bytes())
            .map_err(|e| Error::key(&et_public, e))?;
        Ok(SandboxMerchant {
            credentials: Credentials::new(
                merchant.merchant_number,
                merchant.sub_merchant_number,
                merchant_key(&dir)?,
                et_public_key,
                merchant.salt.as_str(),
            ),
            profile: dir.profile()?,
        })
    }
}

impl SandboxDir {
    /// Writes the notification salt to [`SALT_TXT`] (0600, replacing it),
    /// for the tools that read a salt file (`et notify … --salt-file`).
    pub fn write_salt_file(&self) -> Result<(), Error> {
        let path = self.file(SALT_TXT);
        let salt = self.merchant()?.salt;
        files::write_atomically(
            &path,
            salt.as_bytes(),
            files::OWNER_ONLY,
            files::Existing::Replace,
        )
        .map_err(|e| Error::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_loads_as_the_merchant_it_was_made_for() {
        let tmp = tempfile::tempdir().unwrap();
        let made = SandboxDir::init_small(tmp.path());
        let loaded = SandboxMerchant::load(tmp.path()).unwrap();
        assert_eq!(loaded.credentials.merchant_number, made.merchant_number);
        assert_eq!(*loaded.credentials.notify_salt, *made.salt);
        assert_eq!(
            loaded.profile,
            SandboxDir::new(tmp.path()).profile().unwrap()
        );
    }

    #[test]
    fn load_with_key_signs_with_the_key_given_and_reads_no_key_file() {
        let tmp = tempfile::tempdir().unwrap();
        let made = SandboxDir::init_small(tmp.path());
        let key_file = tmp.path().join(MERCHANT_PRIVATE_PEM);
        std::fs::remove_file(&key_file).unwrap();
        let key = et_crypto::PrivateKey::generate(1024).unwrap();
        let pem = |k: &PublicKey| k.to_spki_pem().unwrap();
        let loaded = SandboxMerchant::load_with_key(tmp.path(), key.clone()).unwrap();
        assert_eq!(
            pem(&loaded.credentials.merchant_key.public_key()),
            pem(key.public_key())
        );
        assert_eq!(loaded.credentials.merchant_number, made.merchant_number);
        // Without a key given, the missing file is the error, by name.
        match SandboxMerchant::load(tmp.path()) {
            Err(Error::Io { path, .. }) => assert_eq!(path, key_file),
            other => panic!("expected the key file's I/O error, got {other:?}"),
        }
    }

    #[test]
    fn the_salt_file_holds_the_salt_alone_and_only_its_owner_reads_it() {
        let tmp = tempfile::tempdir().unwrap();
        let made = SandboxDir::init_small(tmp.path());
        SandboxDir::new(tmp.path()).write_salt_file().unwrap();
        let path = tmp.path().join(SALT_TXT);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *made.salt);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, files::OWNER_ONLY);
        }
    }
}
