//! `et keygen`, and loading the key files the other commands take.

use std::path::Path;

#[cfg(feature = "pkcs11")]
use et_crypto::Pkcs11Uri;
use et_crypto::{PrivateKey, PublicKey, SharedKey};
use et_sandbox::files::{self, Existing};

use crate::cli::{KeyPairArgs, KeygenArgs};
use crate::error::{CliResult, Failure};
use crate::input::{read_input, Input};

const PRIVATE_PEM: &str = "private.pem";
const PUBLIC_PEM: &str = "public.pem";

/// `et keygen`: write `private.pem` (PKCS#8, 0600) and `public.pem` (SPKI)
/// into `--out` (created 0700 if missing). An existing key file, or a
/// symbolic link in its place, is replaced only with `--force`, and then
/// by a new file: never written through, never keeping the old file's mode.
pub(crate) fn keygen(args: &KeygenArgs) -> CliResult {
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let (private, public) = (args.out.join(PRIVATE_PEM), args.out.join(PUBLIC_PEM));
    if existing == Existing::Refuse {
        // Checked before the slow key generation; the write refuses again
        // atomically, should a file appear meanwhile.
        if let Some(path) = [&private, &public]
            .into_iter()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        {
            return Err(exists(path));
        }
    }
    let key = PrivateKey::generate(args.bits as usize).map_err(Failure::usage)?;
    files::create_private_dir(&args.out)
        .map_err(|e| Failure::usage(e).context(args.out.display()))?;
    let pkcs8 = key.to_pkcs8_pem().map_err(Failure::usage)?;
    let spki = key.to_spki_pem().map_err(Failure::usage)?;
    write(&private, pkcs8.as_bytes(), files::OWNER_ONLY, existing)?;
    write(&public, spki.as_bytes(), files::PUBLIC, existing)?;
    crate::output::line(format_args!(
        "wrote {} and {} ({} bits)",
        private.display(),
        public.display(),
        key.bits()
    ))
}

fn write(path: &Path, bytes: &[u8], mode: u32, existing: Existing) -> CliResult {
    files::write_atomically(path, bytes, mode, existing).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => exists(path),
        _ => Failure::usage(e).context(path.display()),
    })
}

fn exists(path: &Path) -> Failure {
    Failure::usage(format_args!(
        "{}: already exists; --force replaces it",
        path.display()
    ))
}

/// The environment variable holding the PIN of a PKCS#11 URI that gives
/// none (no `pin-value` or `pin-source`).
#[cfg(feature = "pkcs11")]
const PKCS11_PIN_ENV: &str = "ET_PKCS11_PIN";

/// Load the merchant's private key: a file (PKCS#1/PKCS#8 PEM, DER or bare
/// Base64), or a key on a PKCS#11 token named by a `pkcs11:` URI (RFC 7512,
/// with `module-path`; the PIN from `pin-value`, `pin-source` or
/// `ET_PKCS11_PIN`), which never leaves the token.
pub(crate) fn load_private(path: &Path) -> CliResult<SharedKey> {
    if let Some(uri) = path.to_str().filter(|text| text.starts_with("pkcs11:")) {
        return load_token_key(uri).map(SharedKey::new);
    }
    let bytes = et_crypto::Zeroizing::new(read_input(path, Input::Key)?);
    PrivateKey::load(&bytes)
        .map(SharedKey::new)
        .map_err(|e| key_failure(e, path))
}

#[cfg(feature = "pkcs11")]
fn load_token_key(text: &str) -> CliResult<et_crypto::Pkcs11Key> {
    let mut uri = Pkcs11Uri::parse(text).map_err(Failure::usage)?;
    if uri.pin.is_none() && uri.pin_source.is_none() {
        if let Ok(pin) = std::env::var(PKCS11_PIN_ENV) {
            uri = uri.with_pin(et_crypto::Zeroizing::new(pin));
        }
    }
    // The URI shown without its PIN.
    et_crypto::Pkcs11Key::open(&uri).map_err(|e| Failure::usage(e).context(&uri))
}

#[cfg(not(feature = "pkcs11"))]
fn load_token_key(_: &str) -> CliResult<PrivateKey> {
    Err(Failure::usage(
        "a pkcs11: key needs et built with feature `pkcs11` (a default feature)",
    ))
}

/// Load a public key file (SPKI/PKCS#1 PEM, DER or bare Base64).
pub(crate) fn load_public(path: &Path) -> CliResult<PublicKey> {
    PublicKey::load(&read_input(path, Input::Key)?).map_err(|e| key_failure(e, path))
}

impl KeyPairArgs {
    /// The merchant's private key and ET's public key, loaded.
    pub(crate) fn load(&self) -> CliResult<(SharedKey, PublicKey)> {
        Ok((
            load_private(&self.merchant_key)?,
            load_public(&self.et_public_key)?,
        ))
    }
}

/// A key that does not load, named by its file; the other half of a pair
/// given for this one says which option takes which half.
fn key_failure(e: et_crypto::Error, path: &Path) -> Failure {
    let hint = matches!(e, et_crypto::Error::WrongKeyKind { .. }).then(|| {
        "--merchant-key takes the merchant's private key (merchant-private.pem), \
         --et-public-key ET's public key (et-public.pem)"
            .to_owned()
    });
    Failure::usage(e).context(path.display()).hint(hint)
}
