//! The two implementations behind one API.

pub(crate) mod rust_crypto;

#[cfg(feature = "aws-lc")]
pub(crate) mod aws_lc;

/// Which implementation performs a key's RSA operations.
///
/// Chosen per key ([`crate::PrivateKey::with_backend`],
/// [`crate::PublicKey::with_backend`]) so that both can live in one process.
/// AES, MD5 and Base64 always use the RustCrypto crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Pure Rust: the `rsa` crate (0.9). Always available.
    RustCrypto,
    /// aws-lc-rs (feature `aws-lc`): faster, constant-time RSA decryption.
    ///
    /// aws-lc-rs refuses some operations; the key then falls back to
    /// RustCrypto for them:
    /// * keys under 2048 bits (ET's examples are 1024-bit): signing,
    ///   encryption and decryption fall back; verification stays on aws-lc;
    /// * SHA-1 signing (aws-lc-rs offers SHA-1 only for verification);
    /// * [`crate::KeyPadding::OaepSha256Mgf1Sha1`] (aws-lc-rs pairs OAEP
    ///   digests with the same MGF1 digest only).
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Backend {
    /// Every backend compiled in, default first.
    pub const ALL: &'static [Backend] = &[
        #[cfg(feature = "aws-lc")]
        Backend::AwsLc,
        Backend::RustCrypto,
    ];
}

impl Default for Backend {
    /// `Backend::AwsLc` when the `aws-lc` feature is on, else
    /// [`Backend::RustCrypto`].
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        return Backend::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        return Backend::RustCrypto;
    }
}
