//! RSA on the system's OpenSSL 3 through the `openssl` crate. OpenSSL does
//! every operation at every supported size (1024–4096 bits), which makes it
//! the fast path for ET's 1024-bit keys; private-key operations are blinded.
//!
//! OpenSSL keeps failures on a per-thread error queue; every `ErrorStack`
//! the crate returns has already drained it, and the text is dropped here:
//! callers see only the crate's typed errors.

use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{Signer, Verifier};
use zeroize::Zeroizing;

use crate::backend::Operation;
use crate::{Error, KeyPadding, SignHash};

/// A private key inside OpenSSL, which frees its numbers with `BN_clear_free`.
pub(crate) struct OsslPrivate(PKey<Private>);

/// A public key inside OpenSSL.
#[derive(Clone)]
pub(crate) struct OsslPublic(PKey<Public>);

fn digest(hash: SignHash) -> MessageDigest {
    match hash {
        SignHash::Sha256 => MessageDigest::sha256(),
        SignHash::Sha1 => MessageDigest::sha1(),
    }
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
    /// `None` when OpenSSL refuses the DER (it accepts every key `rsa` does).
    pub(crate) fn new(pkcs8_der: &[u8]) -> Option<Self> {
        PKey::private_key_from_pkcs8(pkcs8_der)
            .ok()
            .map(OsslPrivate)
    }

    /// Every private-key operation.
    pub(crate) fn accepts(&self, op: Operation) -> bool {
        matches!(op, Operation::Sign(_) | Operation::Decrypt(_))
    }

    pub(crate) fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        Signer::new(digest(hash), &self.0)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(msg))
            .map_err(|_| Error::RsaSign)
    }

    pub(crate) fn decrypt(&self, pad: KeyPadding, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let run = || {
            let mut decrypter = Decrypter::new(&self.0)?;
            let (padding, oaep) = padding(pad);
            decrypter.set_rsa_padding(padding)?;
            if let Some((md, mgf1)) = oaep {
                decrypter.set_rsa_oaep_md(md)?;
                decrypter.set_rsa_mgf1_md(mgf1)?;
            }
            let mut out = Zeroizing::new(vec![0; decrypter.decrypt_len(ct)?]);
            let len = decrypter.decrypt(ct, &mut out)?;
            out.truncate(len);
            Ok::<_, openssl::error::ErrorStack>(out)
        };
        run().map_err(|_| Error::RsaDecrypt)
    }
}

impl OsslPublic {
    pub(crate) fn new(spki_der: &[u8]) -> Option<Self> {
        PKey::public_key_from_der(spki_der).ok().map(OsslPublic)
    }

    /// Every public-key operation.
    pub(crate) fn accepts(&self, op: Operation) -> bool {
        matches!(op, Operation::Verify(_) | Operation::Encrypt(_))
    }

    pub(crate) fn verify(&self, hash: SignHash, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        match Verifier::new(digest(hash), &self.0).and_then(|mut v| v.verify_oneshot(sig, msg)) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(Error::SignatureMismatch),
        }
    }

    pub(crate) fn encrypt(&self, pad: KeyPadding, pt: &[u8]) -> Result<Vec<u8>, Error> {
        let run = || {
            let mut encrypter = Encrypter::new(&self.0)?;
            let (padding, oaep) = padding(pad);
            encrypter.set_rsa_padding(padding)?;
            if let Some((md, mgf1)) = oaep {
                encrypter.set_rsa_oaep_md(md)?;
                encrypter.set_rsa_mgf1_md(mgf1)?;
            }
            let mut out = vec![0; encrypter.encrypt_len(pt)?];
            let len = encrypter.encrypt(pt, &mut out)?;
            out.truncate(len);
            Ok::<_, openssl::error::ErrorStack>(out)
        };
        run().map_err(|_| Error::RsaEncrypt)
    }
}

/// Generates a key with OpenSSL, as PKCS#1 DER.
pub(crate) fn generate_pkcs1(bits: usize) -> Option<Zeroizing<Vec<u8>>> {
    let rsa = Rsa::generate(u32::try_from(bits).ok()?).ok()?;
    rsa.private_key_to_der().ok().map(Zeroizing::new)
}
