//! RSA keys: loading, generation, export, and the four operations ET uses.

use core::fmt;
use rand_core::OsRng;
use rsa::pkcs1::{RsaPrivateKey as Pkcs1Private, RsaPublicKey as Pkcs1Public};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::backend::{rust_crypto, Backend};
use crate::key_input::{self, Parsed, MAX_BITS, MIN_BITS};
use crate::{Error, KeyKind};

#[cfg(feature = "aws-lc")]
use crate::backend::aws_lc::{self, AwsPrivate, AwsPublic};
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
/// zeroizes its key; aws-lc frees private numbers with `BN_clear_free`);
/// `Debug` shows only the size and backend.
pub struct PrivateKey {
    inner: RsaPrivateKey,
    public: PublicKey,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsPrivate>,
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
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsPublic>,
}

impl PrivateKey {
    /// Loads a private key from PKCS#1 PEM (`RSA PRIVATE KEY`), PKCS#8 PEM
    /// (`PRIVATE KEY`), DER, or a bare Base64 body without header. CRLF,
    /// blank lines and surrounding whitespace are tolerated; a PEM label
    /// must name the structure inside, and nothing but whitespace may follow
    /// the key. Uses [`Backend::default`].
    ///
    /// # Errors
    /// [`Error::UnsupportedKeyFormat`], [`Error::KeyParse`],
    /// [`Error::WrongKeyKind`] (a public key was given),
    /// [`Error::KeyLabelMismatch`], [`Error::KeyTrailingData`],
    /// [`Error::PemEnd`], [`Error::PublicExponent`] (below 65537),
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

    /// Generates a new key of `bits` (1024–4096) from the OS CSPRNG.
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
        RsaPrivateKey::new(&mut OsRng, bits)
            .map(Self::from_rsa)
            .map_err(|_| Error::KeyGeneration)
    }

    /// The same key on another backend (see [`Backend`] for what falls back).
    #[must_use]
    pub fn with_backend(self, backend: Backend) -> Self {
        let PrivateKey { inner, public, .. } = self;
        let public = public.with_backend(backend);
        #[cfg(feature = "aws-lc")]
        let aws = match backend {
            Backend::AwsLc => inner
                .to_pkcs8_der()
                .ok()
                .and_then(|der| AwsPrivate::new(der.as_bytes())),
            Backend::RustCrypto => None,
        };
        PrivateKey {
            inner,
            public,
            #[cfg(feature = "aws-lc")]
            aws,
        }
    }

    /// The backend doing this key's SHA-256 signing and decryption:
    /// [`Backend::RustCrypto`] when aws-lc-rs was not chosen or refused the
    /// key (under 2048 bits).
    pub fn backend(&self) -> Backend {
        #[cfg(feature = "aws-lc")]
        if self.aws.is_some() {
            return Backend::AwsLc;
        }
        Backend::RustCrypto
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
    /// same key and message always give the same signature).
    ///
    /// # Errors
    /// [`Error::RsaSign`] if the backend fails.
    pub fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(result) = self.aws.as_ref().and_then(|aws| aws.sign(hash, msg)) {
            return result;
        }
        rust_crypto::sign(&self.inner, hash, msg)
    }

    /// Decrypts an RSA-encrypted AES key (ET's `aeskey`, Base64-decoded).
    ///
    /// # Errors
    /// [`Error::RsaDecrypt`], saying nothing more on purpose.
    pub fn decrypt_key(
        &self,
        padding: KeyPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(result) = self
            .aws
            .as_ref()
            .and_then(|aws| aws.decrypt(padding, ciphertext))
        {
            return result;
        }
        rust_crypto::decrypt(&self.inner, padding, ciphertext)
    }

    fn from_rsa(inner: RsaPrivateKey) -> Self {
        let public = PublicKey::from_rsa(inner.to_public_key());
        let key = PrivateKey {
            inner,
            public,
            #[cfg(feature = "aws-lc")]
            aws: None,
        };
        key.with_backend(Backend::default())
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey {
            inner: self.inner.clone(),
            public: self.public.clone(),
            #[cfg(feature = "aws-lc")]
            aws: None,
        }
        .with_backend(self.backend())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Loads a public key from SPKI PEM (`PUBLIC KEY`), PKCS#1 PEM
    /// (`RSA PUBLIC KEY`), DER, or a bare Base64 body without header. CRLF,
    /// blank lines and surrounding whitespace are tolerated; a PEM label
    /// must name the structure inside, and nothing but whitespace may follow
    /// the key. Uses [`Backend::default`].
    ///
    /// # Errors
    /// [`Error::UnsupportedKeyFormat`], [`Error::KeyParse`],
    /// [`Error::WrongKeyKind`] (a private key was given),
    /// [`Error::KeyLabelMismatch`], [`Error::KeyTrailingData`],
    /// [`Error::PemEnd`], [`Error::PublicExponent`] (below 65537),
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

    /// The same key on another backend.
    #[must_use]
    pub fn with_backend(self, backend: Backend) -> Self {
        #[cfg(feature = "aws-lc")]
        let aws = match backend {
            Backend::AwsLc => {
                let pkcs1 = self.inner.to_pkcs1_der();
                let spki = self.inner.to_public_key_der();
                match (pkcs1, spki) {
                    (Ok(pkcs1), Ok(spki)) => {
                        Some(AwsPublic::new(pkcs1.into_vec(), spki.as_bytes()))
                    }
                    _ => None,
                }
            }
            Backend::RustCrypto => None,
        };
        #[cfg(not(feature = "aws-lc"))]
        let _ = backend;
        PublicKey {
            inner: self.inner,
            #[cfg(feature = "aws-lc")]
            aws,
        }
    }

    /// The backend doing this key's verification.
    pub fn backend(&self) -> Backend {
        #[cfg(feature = "aws-lc")]
        if self.aws.is_some() {
            return Backend::AwsLc;
        }
        Backend::RustCrypto
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.inner.n().bits()
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

    /// Verifies an RSASSA-PKCS1-v1_5 signature over `msg`.
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`] if it does not verify.
    pub fn verify(&self, hash: SignHash, msg: &[u8], signature: &[u8]) -> Result<(), Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(aws) = &self.aws {
            return aws.verify(hash, msg, signature);
        }
        rust_crypto::verify(&self.inner, hash, msg, signature)
    }

    /// Encrypts a short secret (the AES key) for the holder of the private
    /// key. Randomised: two calls give different ciphertexts.
    ///
    /// # Errors
    /// [`Error::RsaEncrypt`] if `plaintext` is too long for the key and padding.
    pub fn encrypt_key(&self, padding: KeyPadding, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(result) = self
            .aws
            .as_ref()
            .and_then(|aws| aws.encrypt(padding, plaintext))
        {
            return result;
        }
        rust_crypto::encrypt(&self.inner, padding, plaintext)
    }

    fn from_rsa(inner: RsaPublicKey) -> Self {
        PublicKey {
            inner,
            #[cfg(feature = "aws-lc")]
            aws: None,
        }
        .with_backend(Backend::default())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .field("backend", &self.backend())
            .finish_non_exhaustive()
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
