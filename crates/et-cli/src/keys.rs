//! `et keygen`, and loading the key files the other commands take.

use std::io::Write;
use std::path::Path;

use et_crypto::{PrivateKey, PublicKey};

use crate::cli::KeygenArgs;
use crate::error::{CliResult, Failure};

/// `et keygen`: write `private.pem` (PKCS#8) and `public.pem` (SPKI) into `--out`.
pub fn keygen(args: &KeygenArgs) -> CliResult {
    let key = PrivateKey::generate(args.bits as usize).map_err(Failure::usage)?;
    write_key_pair(&key, &args.out, "private.pem", "public.pem")?;
    crate::output::line(format_args!(
        "wrote {} and {} ({} bits)",
        args.out.join("private.pem").display(),
        args.out.join("public.pem").display(),
        key.bits()
    ))
}

/// Write `key` as PKCS#8 PEM (owner-only on Unix) and its public half as SPKI PEM.
pub fn write_key_pair(key: &PrivateKey, dir: &Path, private: &str, public: &str) -> CliResult {
    std::fs::create_dir_all(dir).map_err(|e| Failure::usage(e).context(dir.display()))?;
    let pkcs8 = key.to_pkcs8_pem().map_err(Failure::usage)?;
    let spki = key.to_spki_pem().map_err(Failure::usage)?;
    write_secret(&dir.join(private), pkcs8.as_bytes())?;
    let path = dir.join(public);
    std::fs::write(&path, spki).map_err(|e| Failure::usage(e).context(path.display()))
}

fn write_secret(path: &Path, bytes: &[u8]) -> CliResult {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Failure::usage(e).context(path.display()))
}

/// Load a private key file (PKCS#1/PKCS#8 PEM, DER or bare Base64).
pub fn load_private(path: &Path) -> CliResult<PrivateKey> {
    let bytes = et_crypto::Zeroizing::new(read(path)?);
    PrivateKey::load(&bytes).map_err(|e| Failure::usage(e).context(path.display()))
}

/// Load a public key file (SPKI/PKCS#1 PEM, DER or bare Base64).
pub fn load_public(path: &Path) -> CliResult<PublicKey> {
    PublicKey::load(&read(path)?).map_err(|e| Failure::usage(e).context(path.display()))
}

fn read(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| Failure::usage(e).context(path.display()))
}
