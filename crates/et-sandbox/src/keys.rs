//! Key files and salts of a sandbox directory.

use std::fs;
use std::path::Path;

use et_crypto::{PrivateKey, PublicKey};
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;

use crate::Error;

/// Generates a key pair of `bits` and writes it as PKCS#8 and SPKI PEM.
pub(crate) fn write_pair(private: &Path, public: &Path, bits: usize) -> Result<(), Error> {
    let key = PrivateKey::generate(bits).map_err(|e| Error::key(private, e))?;
    let private_pem = key.to_pkcs8_pem().map_err(|e| Error::key(private, e))?;
    let public_pem = key.to_spki_pem().map_err(|e| Error::key(public, e))?;
    write_private(private, private_pem.as_bytes())?;
    fs::write(public, public_pem).map_err(|e| Error::io(public, e))
}

/// Writes a private file readable by its owner only (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| Error::io(path, e))
}

/// Loads a private key file.
pub(crate) fn load_private(path: &Path) -> Result<PrivateKey, Error> {
    let pem = zeroize::Zeroizing::new(fs::read(path).map_err(|e| Error::io(path, e))?);
    PrivateKey::load(&pem).map_err(|e| Error::key(path, e))
}

/// Reads a public key file, checking that it holds a key; returns its text.
pub(crate) fn load_public(path: &Path) -> Result<String, Error> {
    let pem = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    PublicKey::load(pem.as_bytes()).map_err(|e| Error::key(path, e))?;
    Ok(pem)
}

/// A fresh notification salt: 32 alphanumerics from the OS CSPRNG.
pub(crate) fn random_salt() -> String {
    Alphanumeric.sample_string(&mut OsRng, 32)
}
