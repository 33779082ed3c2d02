//! Every cryptographic step of the EasyTransfer (ET, 易思汇) Open API, and
//! nothing else: AES-128-CBC for `sensitive_data`, RSA key transport for
//! `aeskey`, RSASSA-PKCS1-v1_5 signatures for `sign`, the salted MD5 of
//! notifications, and Base64. Envelope logic lives in `et-proto`.
//!
//! Up to three backends sit behind one API: pure-Rust RustCrypto (always
//! built, the only one by default), aws-lc-rs (feature `aws-lc`) and the
//! system's OpenSSL 3 (feature `openssl`). A key picks, per operation, the
//! first of [`Backend::ALL`] that accepts it: aws-lc where it accepts the
//! key (it refuses private keys under 2048 bits and SHA-1 signing), OpenSSL
//! for the rest, RustCrypto as the fallback; [`PrivateKey::with_backend`]
//! pins one instead and [`PrivateKey::backend_for`] says which runs. An
//! application turns the fast backends on with one line in its Cargo.toml:
//! `et-crypto = { version = "0.1", features = ["aws-lc", "openssl"] }`.
//! Nothing here panics on bad input, and no [`Error`] carries key material
//! or plaintext.
//!
//! A merchant's private key is used through two small traits, [`Signer`]
//! and [`KeyUnwrap`] (together [`MerchantKey`]): [`PrivateKey`] holds it in
//! this process; with feature `pkcs11`, `Pkcs11Key` leaves it on a PKCS#11
//! token or HSM. [`SharedKey`] lets a running program swap it.
//!
//! # Map
//!
//! * **The merchant's key**: [`Signer`], [`KeyUnwrap`], [`MerchantKey`],
//!   [`SharedKey`] (and `Pkcs11Key`, `Pkcs11Uri` with feature `pkcs11`).
//! * **RSA keys**: [`PrivateKey`] and [`PublicKey`] (load PEM or DER of any
//!   common flavour, sign and verify with [`SignHash`], wrap and unwrap the
//!   AES key with [`KeyPadding`]); [`Backend`] and [`RsaOperation`] say which
//!   backend runs what.
//! * **AES-128-CBC**: [`aes_cbc_encrypt`], [`aes_cbc_decrypt`], [`AesKey`],
//!   [`Iv`].
//! * **Notifications' MD5**: [`md5_hex`], [`md5_verify`] (constant time),
//!   [`SaltedMd5`] (streamed).
//! * **Base64**: [`b64_encode`], [`b64_decode`] (whitespace-tolerant).
//! * **Errors**: [`Error`], [`KeyFormat`], [`KeyKind`].
//!
//! ```
//! use et_crypto::{
//!     aes_cbc_decrypt, aes_cbc_encrypt, b64_decode, b64_encode, AesKey, Iv, KeyPadding,
//!     PrivateKey, PublicKey, SignHash,
//! };
//!
//! # fn main() -> Result<(), et_crypto::Error> {
//! let merchant = PrivateKey::generate(1024)?;
//! let merchant_public = PublicKey::load(merchant.to_spki_pem()?.as_bytes())?;
//!
//! // Sender: encrypt the sensitive JSON, wrap the AES key, sign.
//! let key = AesKey::generate();
//! let sensitive_data = b64_encode(aes_cbc_encrypt(&key, Iv::SameAsKey, br#"{"a":1}"#));
//! let aeskey = b64_encode(merchant_public.encrypt_key(KeyPadding::Pkcs1v15, key.as_bytes())?);
//! let sign = merchant.sign(SignHash::Sha256, b"aeskey=...&version=2.0.0")?;
//!
//! // Receiver: verify, unwrap the AES key, decrypt.
//! merchant_public.verify(SignHash::Sha256, b"aeskey=...&version=2.0.0", &sign)?;
//! let raw_key = merchant.decrypt_key(KeyPadding::Pkcs1v15, &b64_decode(&aeskey)?)?;
//! let key = AesKey::from_slice(&raw_key)?;
//! let json = aes_cbc_decrypt(&key, Iv::SameAsKey, &b64_decode(&sensitive_data)?)?;
//! assert_eq!(json.as_slice(), br#"{"a":1}"#);
//!
//! // Notifications: salted MD5, lowercase hex.
//! assert!(et_crypto::md5_verify("salt", "a=1", et_crypto::md5_hex("salt", "a=1")));
//! # Ok(())
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod aes_cbc;
mod b64;
mod backend;
mod error;
mod key_input;
mod keys;
mod md5_sign;
mod merchant_key;
#[cfg(feature = "pkcs11")]
mod pkcs11;

pub use aes_cbc::{aes_cbc_decrypt, aes_cbc_decrypt_owned, aes_cbc_encrypt, AesKey, Iv};
pub use b64::{b64_decode, b64_encode};
pub use backend::{Backend, RsaOperation};
pub use error::{Error, KeyFormat, KeyKind};
pub use keys::{KeyPadding, PrivateKey, PublicKey, SignHash};
pub use md5_sign::{md5_hex, md5_sign_digest, md5_verify, SaltedMd5};
pub use merchant_key::{KeyUnwrap, MerchantKey, SharedKey, Signer};
#[cfg(feature = "pkcs11")]
#[cfg_attr(docsrs, doc(cfg(feature = "pkcs11")))]
pub use pkcs11::{Pkcs11Key, Pkcs11Uri, TokenCause, TokenStep, UriFault};
pub use zeroize::Zeroizing;

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
