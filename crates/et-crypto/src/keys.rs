//! RSA keys: loading, generation, export, and the four operations ET uses.

use core::fmt;
use rand_core::OsRng;
use rsa::pkcs1::{RsaPrivateKey as Pkcs1Private, RsaPublicKey as Pkcs1Public};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::backend::{rust_crypto, Backend, RsaOperation, Selection};
use crate::key_input::{self, Parsed, MAX_BITS, MIN_BITS};
use crate::{Error, KeyKind};

#[cfg(feature = "aws-lc")]
use crate::backend::aws_lc::{self, AwsPrivate, AwsPublic};
#[cfg(feature = "openssl")]
use crate::backend::openssl::{self as ossl, OsslPrivate, OsslPublic};
#[cfg(feature = "aws-lc")]
use rsa::pkcs1::EncodeRsaPublicKey;

/// Digest for RSASSA-PKCS1-v1_5 signatures (ET's `sign` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignHash {
    /// SHA-256 ("SHA256withRSA"), the default.
    #[default]
    Sha256,
    /// SHA-1 ("SHA1withRSA"), for counterparts that still use it.
    Sha1,
}

/// Padding for RSA key transport (ET's `aeskey` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyPadding {
    /// RSAES-PKCS1-v1_5, the default.
    #[default]
    Pkcs1v15,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256 (what Python libraries and
    /// `openssl pkeyutl -pkeyopt rsa_oaep_md:sha256` produce).
    OaepSha256,
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1 (Java `OAEPWithSHA-1AndMGF1Padding`).
    OaepSha1,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-1: Java's
    /// `OAEPWithSHA-256AndMGF1Padding` default. RustCrypto only.
    OaepSha256Mgf1Sha1,
}

/// An RSA private key (1024–4096 bits). Zeroized on drop (the `rsa` crate
/// zeroizes its key; aws-lc and OpenSSL free private numbers with
/// `BN_clear_free`); `Debug` shows only the size and backend.
pub struct PrivateKey {
    inner: RsaPrivateKey,
    public: PublicKey,
    selection: Selection,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsPrivate>,
    #[cfg(feature = "openssl")]
    ossl: Option<OsslPrivate>,
}

// The zeroize-on-drop promise above rests on the `rsa` crate's key type.
const _: fn() = || {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroized_on_drop::<RsaPrivateKey>();
};

/// An RSA public key (1024–4096 bits).
#[derive(Clone)]
pub struct PublicKey {
    inner: RsaPublicKey,
    selection: Selection,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsPublic>,
    #[cfg(feature = "openssl")]
    ossl: Option<OsslPublic>,
}

/// Declares the implementation a key's operations run on, `$engine`, with
/// `$key`'s `engine(op)` choosing it and `backend()` naming it, and the
/// key's backend choice and `Debug`: the private and the public key differ
/// only in their key types and field values.
macro_rules! engines {
    ($(#[$doc:meta])* $engine:ident for $key:ident: $rust:ty, $aws:ty, $ossl:ty) => {
        $(#[$doc])*
        enum $engine<'a> {
            RustCrypto(&'a $rust),
            #[cfg(feature = "aws-lc")]
            AwsLc(&'a $aws),
            #[cfg(feature = "openssl")]
            OpenSsl(&'a $ossl),
        }

        impl $engine<'_> {
            fn backend(&self) -> Backend {
                match self {
                    $engine::RustCrypto(_) => Backend::RustCrypto,
                    #[cfg(feature = "aws-lc")]
                    $engine::AwsLc(_) => Backend::AwsLc,
                    #[cfg(feature = "openssl")]
                    $engine::OpenSsl(_) => Backend::OpenSsl,
                }
            }
        }

        impl $key {
            // Without a fast backend every operation runs on RustCrypto.
            #[cfg_attr(
                not(any(feature = "aws-lc", feature = "openssl")),
                allow(unused_variables)
            )]
            fn engine(&self, op: RsaOperation) -> $engine<'_> {
                let chosen = self.selection.choose(|backend| match backend {
                    #[cfg(feature = "aws-lc")]
                    Backend::AwsLc => self.aws.as_ref().is_some_and(|k| k.accepts(op)),
                    #[cfg(feature = "openssl")]
                    Backend::OpenSsl => self.ossl.as_ref().is_some_and(|k| k.accepts(op)),
                    Backend::RustCrypto => true,
                });
                match chosen {
                    #[cfg(feature = "aws-lc")]
                    Backend::AwsLc => self.aws.as_ref().map($engine::AwsLc),
                    #[cfg(feature = "openssl")]
                    Backend::OpenSsl => self.ossl.as_ref().map($engine::OpenSsl),
                    Backend::RustCrypto => None,
                }
                .unwrap_or($engine::RustCrypto(&self.inner))
            }
        }

        impl $key {
            /// The same key pinned to `backend` for every operation it accepts,
            /// RustCrypto for the rest (see [`Backend`] for what each refuses).
            #[must_use]
            pub fn with_backend(self, backend: Backend) -> Self {
                self.select(Selection::Pinned(backend))
            }

            /// The same key choosing, per operation, the first backend in
            /// [`Backend::ALL`] that accepts it:
            #[doc = concat!("what [`", stringify!($key), "::load`] gives.")]
            #[must_use]
            pub fn with_automatic_backend(self) -> Self {
                self.select(Selection::Automatic)
            }
        }

        impl fmt::Debug for $key {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($key))
                    .field("bits", &self.bits())
                    .field("backend", &self.backend())
                    .finish_non_exhaustive()
            }
        }
    };
}

engines! {
    /// The implementation one private-key operation runs on.
    PrivateEngine for PrivateKey: RsaPrivateKey, AwsPrivate, OsslPrivate
}

engines! {
    /// The implementation one public-key operation runs on.
    PublicEngine for PublicKey: RsaPublicKey, AwsPublic, OsslPublic
}

impl PrivateKey {
    /// Loads a private key from PKCS#1 PEM (`RSA PRIVATE KEY`), PKCS#8 PEM
    /// (`PRIVATE KEY`), DER, or a bare Base64 body without header. CRLF,
    /// blank lines and surrounding whitespace are tolerated; a PEM label
    /// must name the structure inside, and nothing but whitespace may follow
    /// the key. Chooses its backend automatically (see [`Backend::ALL`]).
    ///
    /// # Errors
    /// [`Error::UnsupportedKeyFormat`], [`Error::KeyParse`],
    /// [`Error::WrongKeyKind`] (a public key was given),
    /// [`Error::KeyLabelMismatch`], [`Error::KeyTrailingData`],
    /// [`Error::PemEnd`], [`Error::PemHeaderInBody`], [`Error::PublicExponent`] (below 65537),
    /// [`Error::EncryptedKey`], [`Error::KeySize`].
    pub fn load(input: &[u8]) -> Result<Self, Error> {
        let der = key_input::to_der(input)?;
        match key_input::parse(&der)? {
            Parsed::Private(key) => Ok(Self::from_rsa(rsa_private(&key)?)),
            Parsed::Public(_) => Err(Error::WrongKeyKind {
                expected: KeyKind::Private,
            }),
        }
    }

    /// Generates a new key of `bits` (1024–4096) from the OS CSPRNG, with
    /// the fastest generator compiled in.
    ///
    /// # Errors
    /// [`Error::KeySize`] out of range, [`Error::KeyGeneration`] on failure.
    pub fn generate(bits: usize) -> Result<Self, Error> {
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::KeySize { bits });
        }
        #[cfg(feature = "aws-lc")]
        if let Some(der) = aws_lc::generate_pkcs8(bits) {
            return Self::load(&der);
        }
        #[cfg(feature = "openssl")]
        if let Some(der) = ossl::generate_pkcs1(bits) {
            return Self::load(&der);
        }
        RsaPrivateKey::new(&mut OsRng, bits)
            .map(Self::from_rsa)
            .map_err(|_| Error::KeyGeneration)
    }

    fn select(self, selection: Selection) -> Self {
        let PrivateKey { inner, public, .. } = self;
        Self::assemble(inner, public, selection)
    }

    /// The key of `inner` and `public` with the backend objects `selection`
    /// uses.
    fn assemble(inner: RsaPrivateKey, public: PublicKey, selection: Selection) -> Self {
        let public = public.select(selection);
        #[cfg(any(feature = "aws-lc", feature = "openssl"))]
        let pkcs8 = inner.to_pkcs8_der().ok();
        #[cfg(feature = "aws-lc")]
        let aws = pkcs8
            .as_ref()
            .filter(|_| selection.uses(Backend::AwsLc))
            .and_then(|der| AwsPrivate::new(der.as_bytes()));
        #[cfg(feature = "openssl")]
        let ossl = pkcs8
            .as_ref()
            .filter(|_| selection.uses(Backend::OpenSsl))
            .and_then(|der| OsslPrivate::new(der.as_bytes()));
        PrivateKey {
            inner,
            public,
            selection,
            #[cfg(feature = "aws-lc")]
            aws,
            #[cfg(feature = "openssl")]
            ossl,
        }
    }

    /// The backend that runs `op` with this key (private-key operations:
    /// [`RsaOperation::Sign`], [`RsaOperation::Decrypt`]; public ones are the
    /// [`PrivateKey::public_key`]'s).
    pub fn backend_for(&self, op: RsaOperation) -> Backend {
        match op {
            RsaOperation::Sign(_) | RsaOperation::Decrypt(_) => self.engine(op).backend(),
            RsaOperation::Verify(_) | RsaOperation::Encrypt(_) => self.public.backend_for(op),
        }
    }

    /// The backend that runs this key's SHA-256 signing, ET's default:
    /// `backend_for(RsaOperation::Sign(SignHash::Sha256))`.
    pub fn backend(&self) -> Backend {
        self.backend_for(RsaOperation::Sign(SignHash::Sha256))
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Exports as PKCS#8 PEM (`PRIVATE KEY`, LF line endings).
    ///
    /// # Errors
    /// [`Error::KeyExport`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, Error> {
        self.inner
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| Error::KeyExport)
    }

    /// Exports the public half as SPKI PEM (`PUBLIC KEY`).
    ///
    /// # Errors
    /// [`Error::KeyExport`] if encoding fails.
    pub fn to_spki_pem(&self) -> Result<String, Error> {
        self.public.to_spki_pem()
    }

    /// Signs `msg` with RSASSA-PKCS1-v1_5 over `hash` (deterministic: the
    /// same key and message always give the same signature, on every backend).
    ///
    /// # Errors
    /// [`Error::RsaSign`] if the backend fails.
    pub fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        match self.engine(RsaOperation::Sign(hash)) {
            PrivateEngine::RustCrypto(key) => rust_crypto::sign(key, hash, msg),
            #[cfg(feature = "aws-lc")]
            PrivateEngine::AwsLc(key) => key.sign(hash, msg),
            #[cfg(feature = "openssl")]
            PrivateEngine::OpenSsl(key) => key.sign(hash, msg),
        }
    }

    /// Decrypts an RSA-encrypted AES key (ET's `aeskey`, Base64-decoded).
    /// The ciphertext must be exactly the modulus size (RFC 8017 §7.2.2).
    ///
    /// # Errors
    /// [`Error::RsaDecrypt`], saying nothing more on purpose.
    pub fn decrypt_key(
        &self,
        padding: KeyPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.public.check_key_ciphertext(ciphertext)?;
        match self.engine(RsaOperation::Decrypt(padding)) {
            PrivateEngine::RustCrypto(key) => rust_crypto::decrypt(key, padding, ciphertext),
            #[cfg(feature = "aws-lc")]
            PrivateEngine::AwsLc(key) => key.decrypt(padding, ciphertext),
            #[cfg(feature = "openssl")]
            PrivateEngine::OpenSsl(key) => key.decrypt(padding, ciphertext),
        }
    }

    fn from_rsa(inner: RsaPrivateKey) -> Self {
        let public = PublicKey::bare(inner.to_public_key());
        Self::assemble(inner, public, Selection::Automatic)
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        Self::assemble(self.inner.clone(), self.public.clone(), self.selection)
    }
}

impl PublicKey {
    /// Loads a public key from SPKI PEM (`PUBLIC KEY`), PKCS#1 PEM
    /// (`RSA PUBLIC KEY`), DER, or a bare Base64 body without header. CRLF,
    /// blank lines and surrounding whitespace are tolerated; a PEM label
    /// must name the structure inside, and nothing but whitespace may follow
    /// the key. Chooses its backend automatically (see [`Backend::ALL`]).
    ///
    /// # Errors
    /// [`Error::UnsupportedKeyFormat`], [`Error::KeyParse`],
    /// [`Error::WrongKeyKind`] (a private key was given),
    /// [`Error::KeyLabelMismatch`], [`Error::KeyTrailingData`],
    /// [`Error::PemEnd`], [`Error::PemHeaderInBody`], [`Error::PublicExponent`] (below 65537),
    /// [`Error::KeySize`].
    pub fn load(input: &[u8]) -> Result<Self, Error> {
        let der = key_input::to_der(input)?;
        match key_input::parse(&der)? {
            Parsed::Public(key) => Ok(Self::from_rsa(rsa_public(&key)?)),
            Parsed::Private(_) => Err(Error::WrongKeyKind {
                expected: KeyKind::Public,
            }),
        }
    }

    /// The public key of big-endian modulus `n` and exponent `e` (as a
    /// PKCS#11 token gives them), under the same size and exponent rules
    /// as [`PublicKey::load`].
    ///
    /// # Errors
    /// [`Error::KeySize`], [`Error::PublicExponent`], [`Error::KeyParse`].
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        key_input::check_components(n, e)?;
        RsaPublicKey::new(uint(n), uint(e))
            .map(Self::from_rsa)
            .map_err(|_| Error::KeyParse)
    }

    fn select(self, selection: Selection) -> Self {
        #[cfg(any(feature = "aws-lc", feature = "openssl"))]
        let spki = self.inner.to_public_key_der().ok();
        #[cfg(feature = "aws-lc")]
        let aws = match (&spki, self.inner.to_pkcs1_der()) {
            (Some(spki), Ok(pkcs1)) if selection.uses(Backend::AwsLc) => {
                AwsPublic::new(pkcs1.as_bytes(), spki.as_bytes())
            }
            _ => None,
        };
        #[cfg(feature = "openssl")]
        let ossl = spki
            .as_ref()
            .filter(|_| selection.uses(Backend::OpenSsl))
            .and_then(|der| OsslPublic::new(der.as_bytes()));
        PublicKey {
            inner: self.inner,
            selection,
            #[cfg(feature = "aws-lc")]
            aws,
            #[cfg(feature = "openssl")]
            ossl,
        }
    }

    /// The backend that runs `op` with this key ([`RsaOperation::Verify`] or
    /// [`RsaOperation::Encrypt`]; private-key operations report RustCrypto).
    pub fn backend_for(&self, op: RsaOperation) -> Backend {
        self.engine(op).backend()
    }

    /// The backend that runs this key's SHA-256 verification, ET's default:
    /// `backend_for(RsaOperation::Verify(SignHash::Sha256))`.
    pub fn backend(&self) -> Backend {
        self.backend_for(RsaOperation::Verify(SignHash::Sha256))
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.inner.n().bits()
    }

    /// Modulus size in octets: the length of every signature and ciphertext.
    pub(crate) fn modulus_len(&self) -> usize {
        self.inner.size()
    }

    /// The length rule for an RSA-encrypted key, on every backend and token:
    /// exactly the modulus size (RFC 8017 §7.2.2). The `rsa` crate reads the
    /// ciphertext as an integer, so it accepted leading zero octets
    /// (Wycheproof rsa_pkcs1 tcId 31).
    pub(crate) fn check_key_ciphertext(&self, ciphertext: &[u8]) -> Result<(), Error> {
        if ciphertext.len() == self.modulus_len() {
            Ok(())
        } else {
            Err(Error::RsaDecrypt)
        }
    }

    /// Exports as SPKI PEM (`PUBLIC KEY`, LF line endings).
    ///
    /// # Errors
    /// [`Error::KeyExport`] if encoding fails.
    pub fn to_spki_pem(&self) -> Result<String, Error> {
        self.inner
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| Error::KeyExport)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 signature over `msg`. The signature
    /// must be exactly the modulus size (RFC 8017 §8.2.2), on every backend.
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`] if it does not verify.
    pub fn verify(&self, hash: SignHash, msg: &[u8], signature: &[u8]) -> Result<(), Error> {
        if signature.len() != self.modulus_len() {
            return Err(Error::SignatureMismatch);
        }
        match self.engine(RsaOperation::Verify(hash)) {
            PublicEngine::RustCrypto(key) => rust_crypto::verify(key, hash, msg, signature),
            #[cfg(feature = "aws-lc")]
            PublicEngine::AwsLc(key) => key.verify(hash, msg, signature),
            #[cfg(feature = "openssl")]
            PublicEngine::OpenSsl(key) => key.verify(hash, msg, signature),
        }
    }

    /// Encrypts a short secret (the AES key) for the holder of the private
    /// key. Randomised: two calls give different ciphertexts.
    ///
    /// # Errors
    /// [`Error::RsaEncrypt`] if `plaintext` is too long for the key and padding.
    pub fn encrypt_key(&self, padding: KeyPadding, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        match self.engine(RsaOperation::Encrypt(padding)) {
            PublicEngine::RustCrypto(key) => rust_crypto::encrypt(key, padding, plaintext),
            #[cfg(feature = "aws-lc")]
            PublicEngine::AwsLc(key) => key.encrypt(padding, plaintext),
            #[cfg(feature = "openssl")]
            PublicEngine::OpenSsl(key) => key.encrypt(padding, plaintext),
        }
    }

    fn from_rsa(inner: RsaPublicKey) -> Self {
        Self::bare(inner).select(Selection::Automatic)
    }

    /// The key with no backend objects yet: [`Self::select`] makes them.
    fn bare(inner: RsaPublicKey) -> Self {
        PublicKey {
            inner,
            selection: Selection::Automatic,
            #[cfg(feature = "aws-lc")]
            aws: None,
            #[cfg(feature = "openssl")]
            ossl: None,
        }
    }
}

fn uint(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_be(bytes)
}

fn rsa_private(key: &Pkcs1Private<'_>) -> Result<RsaPrivateKey, Error> {
    RsaPrivateKey::from_components(
        uint(key.modulus.as_bytes()),
        uint(key.public_exponent.as_bytes()),
        uint(key.private_exponent.as_bytes()),
        vec![uint(key.prime1.as_bytes()), uint(key.prime2.as_bytes())],
    )
    .map_err(|_| Error::KeyParse)
}

fn rsa_public(key: &Pkcs1Public<'_>) -> Result<RsaPublicKey, Error> {
    RsaPublicKey::new(
        uint(key.modulus.as_bytes()),
        uint(key.public_exponent.as_bytes()),
    )
    .map_err(|_| Error::KeyParse)
}
