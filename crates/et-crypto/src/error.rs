//! The crate's one error type.

use core::fmt;

/// Which kind of RSA key a loader expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    Private,
    /// A public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).
    Public,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Private => "private",
            KeyKind::Public => "public",
        })
    }
}

/// The four RSA key structures, each named after its PEM label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// PKCS#8 `PrivateKeyInfo` (`PRIVATE KEY`).
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey` (`RSA PRIVATE KEY`).
    Pkcs1Private,
    /// X.509 `SubjectPublicKeyInfo` (`PUBLIC KEY`).
    Spki,
    /// PKCS#1 `RSAPublicKey` (`RSA PUBLIC KEY`).
    Pkcs1Public,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Pkcs8 => "PRIVATE KEY",
            KeyFormat::Pkcs1Private => "RSA PRIVATE KEY",
            KeyFormat::Spki => "PUBLIC KEY",
            KeyFormat::Pkcs1Public => "RSA PUBLIC KEY",
        })
    }
}

/// Everything that can go wrong in a cryptographic step.
///
/// No variant carries key material, plaintext or decrypted data: only which
/// step failed and, where harmless, a length or size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key input is none of PEM, DER or bare Base64, or its PEM label is
    /// not an RSA key (e.g. `CERTIFICATE`, `EC PRIVATE KEY`).
    UnsupportedKeyFormat,
    /// The key input was recognised (PEM/DER/Base64) but its DER is not a
    /// valid RSA key in PKCS#1, PKCS#8 or SPKI form.
    KeyParse,
    /// A public key was given where a private key was expected, or the reverse.
    WrongKeyKind {
        /// The kind the caller asked for.
        expected: KeyKind,
    },
    /// The PEM label names another structure than the one inside (e.g. a
    /// private key under `PUBLIC KEY`).
    KeyLabelMismatch {
        /// The structure the label promised.
        label: KeyFormat,
        /// The structure actually found.
        found: KeyFormat,
    },
    /// Something follows the key: a second key, or other data. A key input
    /// holds exactly one key, then nothing but whitespace.
    KeyTrailingData,
    /// A PEM key has no `-----END ...-----` line, or it names another label
    /// than the BEGIN line.
    PemEnd,
    /// A line of a PEM key's Base64 body holds a colon: a header
    /// (`Name: value`) may come only before the body. The line is not
    /// shown, only its number: it may hold key material.
    PemHeaderInBody {
        /// 1-based line number in the PEM text (the BEGIN line is 1).
        line: usize,
    },
    /// The public exponent is below 65537 or even (also checked for private
    /// keys, which carry their public exponent).
    PublicExponent {
        /// The rejected exponent (`u64::MAX` if it does not fit).
        exponent: u64,
    },
    /// The private key is password-protected (`ENCRYPTED PRIVATE KEY` or a
    /// `Proc-Type: 4,ENCRYPTED` header): decrypt it first, e.g. with
    /// `openssl pkey -in key.pem -out plain.pem`.
    EncryptedKey,
    /// The RSA modulus is outside the supported 1024–4096 bit range.
    KeySize {
        /// Modulus size of the rejected key, in bits.
        bits: usize,
    },
    /// Key generation failed.
    KeyGeneration,
    /// Encoding a key as PEM failed.
    KeyExport,
    /// Base64 text is malformed.
    Base64,
    /// An AES key was not 16 bytes long.
    AesKeyLength {
        /// Length that was given.
        len: usize,
    },
    /// An AES-CBC ciphertext is empty or not a multiple of 16 bytes.
    AesCiphertextLength {
        /// Length that was given.
        len: usize,
    },
    /// AES-CBC decryption produced invalid PKCS#7 padding (wrong key, wrong IV
    /// or corrupted ciphertext).
    AesPadding,
    /// RSA encryption failed: the plaintext is too long for the key and padding.
    RsaEncrypt,
    /// RSA decryption failed (wrong key, wrong padding mode or corrupted
    /// ciphertext). Deliberately says nothing more.
    RsaDecrypt,
    /// RSA signing failed.
    RsaSign,
    /// The RSA signature does not match the message and key.
    SignatureMismatch,
    /// A PKCS#11 URI (RFC 7512) is not one this crate reads.
    #[cfg(feature = "pkcs11")]
    Pkcs11Uri {
        /// What is wrong with it.
        fault: crate::UriFault,
    },
    /// A PKCS#11 token refused a step (unwrapping `aeskey` fails as
    /// [`Error::RsaDecrypt`] instead, whatever the token says).
    #[cfg(feature = "pkcs11")]
    Token {
        /// The step that failed.
        step: crate::TokenStep,
        /// The token's reason.
        cause: crate::TokenCause,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedKeyFormat => {
                f.write_str("RSA key load: input is not an RSA key in PEM, DER or Base64 form")
            }
            Error::KeyParse => f.write_str(
                "RSA key load: DER is not a valid RSA key (PKCS#1, PKCS#8 or SubjectPublicKeyInfo)",
            ),
            Error::WrongKeyKind { expected } => {
                let found = match expected {
                    KeyKind::Private => KeyKind::Public,
                    KeyKind::Public => KeyKind::Private,
                };
                write!(
                    f,
                    "RSA key load: this is a {found} key, where a {expected} key is needed"
                )
            }
            Error::KeyLabelMismatch { label, found } => write!(
                f,
                "RSA key load: the PEM label says {label} but the content is a {found} key"
            ),
            Error::KeyTrailingData => f.write_str(
                "RSA key load: data follows the key (a second key or garbage); one key per input",
            ),
            Error::PemEnd => {
                f.write_str("RSA key load: PEM END line missing or not matching the BEGIN line")
            }
            Error::PemHeaderInBody { line } => write!(
                f,
                "RSA key load: PEM line {line} holds a ':' inside the Base64 body; \
                 headers (Name: value) may only come before the body"
            ),
            Error::PublicExponent { exponent } => write!(
                f,
                "RSA key load: public exponent {exponent} refused (must be odd and at least 65537)"
            ),
            Error::EncryptedKey => {
                f.write_str("RSA key load: the private key is encrypted with a password")
            }
            Error::KeySize { bits } => write!(
                f,
                "RSA key load: modulus of {bits} bits is outside the supported 1024-4096 range"
            ),
            Error::KeyGeneration => f.write_str("RSA key generation failed"),
            Error::KeyExport => f.write_str("RSA key export to PEM failed"),
            Error::Base64 => f.write_str("Base64 decoding failed"),
            Error::AesKeyLength { len } => {
                write!(f, "AES key: expected 16 bytes, got {len}")
            }
            Error::AesCiphertextLength { len } => write!(
                f,
                "AES-CBC decrypt: ciphertext length {len} is not a positive multiple of 16"
            ),
            Error::AesPadding => f.write_str("AES-CBC decrypt: invalid PKCS#7 padding"),
            Error::RsaEncrypt => {
                f.write_str("RSA encrypt: plaintext too long for the key and padding")
            }
            Error::RsaDecrypt => f.write_str("RSA decrypt failed"),
            Error::RsaSign => f.write_str("RSA sign failed"),
            Error::SignatureMismatch => f.write_str("RSA verify: signature does not match"),
            #[cfg(feature = "pkcs11")]
            Error::Pkcs11Uri { fault } => write!(f, "PKCS#11 URI: {fault}"),
            #[cfg(feature = "pkcs11")]
            Error::Token { step, cause } => {
                write!(f, "PKCS#11 token: {step} failed: {cause}")
            }
        }
    }
}

impl std::error::Error for Error {}
