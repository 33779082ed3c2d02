//! The implementations behind one API, and the rule that picks one per
//! operation.

pub(crate) mod rust_crypto;

#[cfg(feature = "aws-lc")]
pub(crate) mod aws_lc;

#[cfg(feature = "openssl")]
pub(crate) mod openssl;

use crate::{KeyPadding, SignHash};

/// Which implementation performs an RSA operation.
///
/// By default a key picks, per operation, the first backend in
/// [`Backend::ALL`] that accepts it (see [`crate::PrivateKey::backend_for`]);
/// [`crate::PrivateKey::with_backend`] pins one instead, falling back to
/// RustCrypto where the pinned one refuses. AES, MD5 and Base64 always use
/// the RustCrypto crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// aws-lc-rs (feature `aws-lc`): fastest at 2048 bits and above,
    /// constant-time RSA decryption. It refuses some operations:
    /// * private-key operations (signing, decryption) and encryption with
    ///   keys under 2048 bits (ET's examples are 1024-bit); verification
    ///   works from 1024 bits;
    /// * SHA-1 signing (aws-lc-rs offers SHA-1 only for verification);
    /// * [`crate::KeyPadding::OaepSha256Mgf1Sha1`] (aws-lc-rs pairs OAEP
    ///   digests with the same MGF1 digest only).
    #[cfg(feature = "aws-lc")]
    AwsLc,
    /// The system's OpenSSL 3 (feature `openssl`): every operation at every
    /// size, the fast path for 1024-bit keys.
    #[cfg(feature = "openssl")]
    OpenSsl,
    /// Pure Rust: the `rsa` crate (0.9). Always available, does everything.
    RustCrypto,
}

impl Backend {
    /// Every backend compiled in, in the automatic choice's order of
    /// preference: aws-lc where it accepts the key, then OpenSSL, then
    /// RustCrypto.
    pub const ALL: &'static [Backend] = &[
        #[cfg(feature = "aws-lc")]
        Backend::AwsLc,
        #[cfg(feature = "openssl")]
        Backend::OpenSsl,
        Backend::RustCrypto,
    ];
}

/// One RSA operation, as [`crate::PrivateKey::backend_for`] and
/// [`crate::PublicKey::backend_for`] take it: backends differ per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaOperation {
    /// [`crate::PrivateKey::sign`].
    Sign(SignHash),
    /// [`crate::PrivateKey::decrypt_key`].
    Decrypt(KeyPadding),
    /// [`crate::PublicKey::verify`].
    Verify(SignHash),
    /// [`crate::PublicKey::encrypt_key`].
    Encrypt(KeyPadding),
}

/// How a key chooses its backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Per operation, the first of [`Backend::ALL`] that accepts it.
    Automatic,
    /// This one, else RustCrypto.
    Pinned(Backend),
}

impl Selection {
    /// Whether a key with this selection needs `backend`'s key object.
    #[cfg(any(feature = "aws-lc", feature = "openssl"))]
    pub(crate) fn uses(self, backend: Backend) -> bool {
        match self {
            Selection::Automatic => true,
            Selection::Pinned(pinned) => pinned == backend,
        }
    }

    /// The backend to run an operation on, given which backends hold a key
    /// object that accepts it (RustCrypto accepts everything).
    pub(crate) fn choose(self, accepts: impl Fn(Backend) -> bool) -> Backend {
        let accepts = |b: Backend| b == Backend::RustCrypto || accepts(b);
        match self {
            Selection::Automatic => Backend::ALL.iter().copied().find(|&b| accepts(b)),
            Selection::Pinned(pinned) => Some(pinned).filter(|&b| accepts(b)),
        }
        .unwrap_or(Backend::RustCrypto)
    }
}
