//! RSA on the system's OpenSSL 3 through the `openssl` crate. OpenSSL does
//! every operation at every supported size (1024–4096 bits), which makes it
//! the fast path for ET's 1024-bit keys; private-key operations are blinded.
//!
//! Signatures go through OpenSSL's RSA functions with PKCS#1 v1.5 type-1
//! padding over a DigestInfo we build (RFC 8017 §9.2), and verification
//! compares the whole recovered DigestInfo with the expected one in
//! constant time, parsing nothing. Through `EVP_PKEY_CTX`, OpenSSL 3 looks
//! up its providers behind locks on every call: a 1024-bit verify took
//! 8.6 µs instead of 4.9 µs, a signature 87 µs instead of 72 µs
//! (docs/decisions.md D19). Key decryption stays on `EVP_PKEY_CTX`, where OpenSSL's padding
//! check (and, from 3.2, its implicit rejection) lives.
//!
//! OpenSSL keeps failures on a per-thread error queue; every `ErrorStack`
//! the crate returns has already drained it, and the text is dropped here:
//! callers see only the crate's typed errors.

use openssl::encrypt::{Decrypter, Encrypter};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::backend::{rust_crypto, RsaOperation};
use crate::{Error, KeyPadding, SignHash};

/// A key inside OpenSSL: as an `EVP_PKEY` for key transport, as an `RSA`
/// for signatures. OpenSSL frees a private key's numbers with `BN_clear_free`.
pub(crate) struct Ossl<T> {
    pkey: PKey<T>,
    rsa: Rsa<T>,
}

/// A private key inside OpenSSL.
pub(crate) type OsslPrivate = Ossl<Private>;

/// A public key inside OpenSSL.
pub(crate) type OsslPublic = Ossl<Public>;

impl Clone for OsslPublic {
    fn clone(&self) -> Self {
        Ossl {
            pkey: self.pkey.clone(),
            rsa: self.rsa.clone(),
        }
    }
}

impl<T> Ossl<T> {
    /// `None` when OpenSSL refuses the key (it accepts every key `rsa` does).
    fn from_pkey(pkey: Result<PKey<T>, ErrorStack>) -> Option<Self> {
        let pkey = pkey.ok()?;
        let rsa = pkey.rsa().ok()?;
        Some(Ossl { pkey, rsa })
    }
}

/// Sets OpenSSL's padding and, for OAEP, its digests on an `Encrypter` or
/// a `Decrypter`.
macro_rules! set_padding {
    ($ctx:expr, $pad:expr) => {
        let (padding, oaep) = padding($pad);
        $ctx.set_rsa_padding(padding)?;
        if let Some((md, mgf1)) = oaep {
            $ctx.set_rsa_oaep_md(md)?;
            $ctx.set_rsa_mgf1_md(mgf1)?;
        }
    };
}

/// What a PKCS#1 v1.5 signature of `msg` carries under its padding: the DER
/// `DigestInfo` naming the hash, then the hash (RFC 8017 §9.2, note 1). The
/// `rsa` crate's scheme holds the DER head, so both backends sign the same bytes.
fn digest_info(hash: SignHash, msg: &[u8]) -> Vec<u8> {
    let (digest, scheme) = rust_crypto::digest_and_scheme(hash, msg);
    [&scheme.prefix[..], &digest].concat()
}

/// OpenSSL's padding and, for OAEP, the label digest and MGF1 digest.
fn padding(padding: KeyPadding) -> (Padding, Option<(MessageDigest, MessageDigest)>) {
    let (sha1, sha256) = (MessageDigest::sha1(), MessageDigest::sha256());
    match padding {
        KeyPadding::Pkcs1v15 => (Padding::PKCS1, None),
        KeyPadding::OaepSha256 => (Padding::PKCS1_OAEP, Some((sha256, sha256))),
        KeyPadding::OaepSha1 => (Padding::PKCS1_OAEP, Some((sha1, sha1))),
        KeyPadding::OaepSha256Mgf1Sha1 => (Padding::PKCS1_OAEP, Some((sha256, sha1))),
    }
}

impl OsslPrivate {
    pub(crate) fn new(pkcs8_der: &[u8]) -> Option<Self> {
        Self::from_pkey(PKey::private_key_from_pkcs8(pkcs8_der))
    }

    /// Every private-key operation.
    pub(crate) fn accepts(&self, op: RsaOperation) -> bool {
        matches!(op, RsaOperation::Sign(_) | RsaOperation::Decrypt(_))
    }

    pub(crate) fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let mut signature = vec![0; self.rsa.size() as usize];
        let len = self
            .rsa
            .private_encrypt(&digest_info(hash, msg), &mut signature, Padding::PKCS1)
            .map_err(|_| Error::RsaSign)?;
        signature.truncate(len);
        Ok(signature)
    }

    pub(crate) fn decrypt(&self, pad: KeyPadding, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let run = || {
            let mut decrypter = Decrypter::new(&self.pkey)?;
            set_padding!(decrypter, pad);
            let mut out = Zeroizing::new(vec![0; decrypter.decrypt_len(ct)?]);
            let len = decrypter.decrypt(ct, &mut out)?;
            out.truncate(len);
            Ok::<_, ErrorStack>(out)
        };
        run().map_err(|_| Error::RsaDecrypt)
    }
}

impl OsslPublic {
    pub(crate) fn new(spki_der: &[u8]) -> Option<Self> {
        Self::from_pkey(PKey::public_key_from_der(spki_der))
    }

    /// Every public-key operation.
    pub(crate) fn accepts(&self, op: RsaOperation) -> bool {
        matches!(op, RsaOperation::Verify(_) | RsaOperation::Encrypt(_))
    }

    pub(crate) fn verify(&self, hash: SignHash, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        // The caller checked that `sig` is exactly the modulus size.
        let mut recovered = vec![0; self.rsa.size() as usize];
        let len = self
            .rsa
            .public_decrypt(sig, &mut recovered, Padding::PKCS1)
            .map_err(|_| Error::SignatureMismatch)?;
        let expected = digest_info(hash, msg);
        match recovered.get(..len) {
            Some(found) if bool::from(found.ct_eq(&expected)) => Ok(()),
            _ => Err(Error::SignatureMismatch),
        }
    }

    pub(crate) fn encrypt(&self, pad: KeyPadding, pt: &[u8]) -> Result<Vec<u8>, Error> {
        let run = || {
            let mut encrypter = Encrypter::new(&self.pkey)?;
            set_padding!(encrypter, pad);
            let mut out = vec![0; encrypter.encrypt_len(pt)?];
            let len = encrypter.encrypt(pt, &mut out)?;
            out.truncate(len);
            Ok::<_, ErrorStack>(out)
        };
        run().map_err(|_| Error::RsaEncrypt)
    }
}

/// Generates a key with OpenSSL, as PKCS#1 DER.
pub(crate) fn generate_pkcs1(bits: usize) -> Option<Zeroizing<Vec<u8>>> {
    let rsa = Rsa::generate(u32::try_from(bits).ok()?).ok()?;
    rsa.private_key_to_der().ok().map(Zeroizing::new)
}
