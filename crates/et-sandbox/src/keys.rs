//! Key files and salts of a sandbox directory.

use std::path::Path;

use et_crypto::{PrivateKey, PublicKey};
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;

use crate::files::{self, Existing};
use crate::Error;

/// Generates a key pair of `bits` and writes it as PKCS#8 (0600) and SPKI
/// (0644) PEM; an existing file at either path is left alone and is an error.
pub(crate) fn write_pair(private: &Path, public: &Path, bits: usize) -> Result<(), Error> {
    let key = PrivateKey::generate(bits).map_err(|e| Error::key(private, e))?;
    let private_pem = key.to_pkcs8_pem().map_err(|e| Error::key(private, e))?;
    let public_pem = key.to_spki_pem().map_err(|e| Error::key(public, e))?;
    let write = |path: &Path, bytes: &[u8], mode| {
        files::write_atomically(path, bytes, mode, Existing::Refuse).map_err(|e| Error::io(path, e))
    };
    write(private, private_pem.as_bytes(), files::OWNER_ONLY)?;
    write(public, public_pem.as_bytes(), files::PUBLIC)
}

/// Loads a private key file.
pub(crate) fn load_private(path: &Path) -> Result<PrivateKey, Error> {
    let pem = zeroize::Zeroizing::new(read_key_file(path)?);
    PrivateKey::load(&pem).map_err(|e| Error::key(path, e))
}

/// Reads a public key file, checking that it holds a key; returns its text.
pub(crate) fn load_public(path: &Path) -> Result<String, Error> {
    let pem = read_key_file(path)?;
    PublicKey::load(&pem).map_err(|e| Error::key(path, e))?;
    String::from_utf8(pem).map_err(|_| Error::Config {
        path: path.to_owned(),
        reason: "not PEM text".into(),
    })
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, Error> {
    files::read_file_bounded(path, files::MAX_KEY_FILE).map_err(|e| Error::io(path, e))
}

/// A fresh notification salt: 32 alphanumerics from the OS CSPRNG.
pub(crate) fn random_salt() -> String {
    Alphanumeric.sample_string(&mut OsRng, 32)
}
