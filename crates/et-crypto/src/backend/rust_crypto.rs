//! RSA on the pure-Rust `rsa` crate. Private-key operations are blinded.

use rand_core::OsRng;
use rsa::{Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, KeyPadding, SignHash};

/// The hash of `msg` and the signature scheme naming it (whose `prefix` is
/// the DER `DigestInfo` head the OpenSSL backend signs too).
pub(crate) fn digest_and_scheme(hash: SignHash, msg: &[u8]) -> (Vec<u8>, Pkcs1v15Sign) {
    match hash {
        SignHash::Sha256 => (Sha256::digest(msg).to_vec(), Pkcs1v15Sign::new::<Sha256>()),
        SignHash::Sha1 => (Sha1::digest(msg).to_vec(), Pkcs1v15Sign::new::<Sha1>()),
    }
}

pub(crate) fn sign(key: &RsaPrivateKey, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
    let (digest, scheme) = digest_and_scheme(hash, msg);
    key.sign_with_rng(&mut OsRng, scheme, &digest)
        .map_err(|_| Error::RsaSign)
}

pub(crate) fn verify(
    key: &RsaPublicKey,
    hash: SignHash,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), Error> {
    let (digest, scheme) = digest_and_scheme(hash, msg);
    key.verify(scheme, &digest, sig)
        .map_err(|_| Error::SignatureMismatch)
}

/// The OAEP scheme of `padding`; `None` for PKCS#1 v1.5.
fn oaep(padding: KeyPadding) -> Option<Oaep> {
    match padding {
        KeyPadding::Pkcs1v15 => None,
        KeyPadding::OaepSha256 => Some(Oaep::new::<Sha256>()),
        KeyPadding::OaepSha1 => Some(Oaep::new::<Sha1>()),
        KeyPadding::OaepSha256Mgf1Sha1 => Some(Oaep::new_with_mgf_hash::<Sha256, Sha1>()),
    }
}

pub(crate) fn encrypt(
    key: &RsaPublicKey,
    padding: KeyPadding,
    pt: &[u8],
) -> Result<Vec<u8>, Error> {
    match oaep(padding) {
        None => key.encrypt(&mut OsRng, Pkcs1v15Encrypt, pt),
        Some(oaep) => key.encrypt(&mut OsRng, oaep, pt),
    }
    .map_err(|_| Error::RsaEncrypt)
}

pub(crate) fn decrypt(
    key: &RsaPrivateKey,
    padding: KeyPadding,
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    match oaep(padding) {
        None => key.decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, ct),
        Some(oaep) => key.decrypt_blinded(&mut OsRng, oaep, ct),
    }
    .map(Zeroizing::new)
    .map_err(|_| Error::RsaDecrypt)
}
