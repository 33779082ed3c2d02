//! RSA on aws-lc-rs. `accepts` says which operations aws-lc-rs supports for
//! a key; the key chooses another backend for the rest.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, ParsedPublicKey};
use zeroize::Zeroizing;

use crate::backend::RsaOperation;
use crate::{Error, KeyPadding, SignHash};

/// The private half: present only for keys aws-lc-rs accepts (2048+ bits).
pub(crate) struct AwsPrivate {
    pair: KeyPair,
    pkcs1: Pkcs1PrivateDecryptingKey,
    oaep: OaepPrivateDecryptingKey,
}

/// The public half: verification works from 1024 bits, encryption from 2048.
/// Parsed once per hash: parsing on every call cost more than the 1024-bit
/// verification itself.
#[derive(Clone)]
pub(crate) struct AwsPublic {
    sha256: ParsedPublicKey,
    sha1: ParsedPublicKey,
    enc: Option<PublicEncryptingKey>,
}

impl AwsPrivate {
    /// `None` when aws-lc-rs rejects the key (under 2048 bits).
    pub(crate) fn new(pkcs8_der: &[u8]) -> Option<Self> {
        let pair = KeyPair::from_pkcs8(pkcs8_der).ok()?;
        let dec = PrivateDecryptingKey::from_pkcs8(pkcs8_der).ok()?;
        Some(AwsPrivate {
            pair,
            pkcs1: Pkcs1PrivateDecryptingKey::new(dec.clone()).ok()?,
            oaep: OaepPrivateDecryptingKey::new(dec).ok()?,
        })
    }

    /// SHA-256 signing, and decryption in every padding but
    /// [`KeyPadding::OaepSha256Mgf1Sha1`].
    pub(crate) fn accepts(&self, op: RsaOperation) -> bool {
        match op {
            RsaOperation::Sign(hash) => hash == SignHash::Sha256,
            RsaOperation::Decrypt(padding) => oaep_algorithm(padding).is_ok(),
            RsaOperation::Verify(_) | RsaOperation::Encrypt(_) => false,
        }
    }

    /// Signs with SHA-256; SHA-1 is not accepted (see [`Self::accepts`]).
    pub(crate) fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let encoding = match hash {
            SignHash::Sha256 => &signature::RSA_PKCS1_SHA256,
            SignHash::Sha1 => return Err(Error::RsaSign),
        };
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), msg, &mut sig)
            .map(|()| sig)
            .map_err(|_| Error::RsaSign)
    }

    pub(crate) fn decrypt(
        &self,
        padding: KeyPadding,
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut out = Zeroizing::new(vec![0; self.pkcs1.min_output_size()]);
        let len = match oaep_algorithm(padding) {
            Ok(None) => self.pkcs1.decrypt(ct, &mut out).map(|pt| pt.len()),
            Ok(Some(alg)) => self
                .oaep
                .decrypt(alg, ct, &mut out, None)
                .map(|pt| pt.len()),
            Err(()) => return Err(Error::RsaDecrypt),
        };
        let len = len.map_err(|_| Error::RsaDecrypt)?;
        out.truncate(len);
        Ok(out)
    }
}

impl AwsPublic {
    /// `None` when aws-lc-rs rejects the key for verification.
    pub(crate) fn new(pkcs1_der: &[u8], spki_der: &[u8]) -> Option<Self> {
        let parse = |params| ParsedPublicKey::new(params, pkcs1_der).ok();
        Some(AwsPublic {
            sha256: parse(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)?,
            sha1: parse(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY)?,
            enc: PublicEncryptingKey::from_der(spki_der).ok(),
        })
    }

    /// Verification at every size (1024-bit keys through aws-lc-rs's legacy
    /// parameters); encryption from 2048 bits, in every padding but
    /// [`KeyPadding::OaepSha256Mgf1Sha1`].
    pub(crate) fn accepts(&self, op: RsaOperation) -> bool {
        match op {
            RsaOperation::Verify(_) => true,
            RsaOperation::Encrypt(padding) => self.enc.is_some() && oaep_algorithm(padding).is_ok(),
            RsaOperation::Sign(_) | RsaOperation::Decrypt(_) => false,
        }
    }

    pub(crate) fn verify(&self, hash: SignHash, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let key = match hash {
            SignHash::Sha256 => &self.sha256,
            SignHash::Sha1 => &self.sha1,
        };
        key.verify_sig(msg, sig)
            .map_err(|_| Error::SignatureMismatch)
    }

    pub(crate) fn encrypt(&self, padding: KeyPadding, pt: &[u8]) -> Result<Vec<u8>, Error> {
        let key = self.enc.as_ref().ok_or(Error::RsaEncrypt)?;
        let mut out = vec![0; key.key_size_bytes()];
        let len = match oaep_algorithm(padding) {
            Ok(None) => Pkcs1PublicEncryptingKey::new(key.clone())
                .and_then(|k| k.encrypt(pt, &mut out).map(|ct| ct.len())),
            Ok(Some(alg)) => OaepPublicEncryptingKey::new(key.clone())
                .and_then(|k| k.encrypt(alg, pt, &mut out, None).map(|ct| ct.len())),
            Err(()) => return Err(Error::RsaEncrypt),
        };
        let len = len.map_err(|_| Error::RsaEncrypt)?;
        out.truncate(len);
        Ok(out)
    }
}

/// `Ok(None)` = PKCS#1 v1.5; `Err(())` = not offered by aws-lc-rs.
fn oaep_algorithm(padding: KeyPadding) -> Result<Option<&'static OaepAlgorithm>, ()> {
    match padding {
        KeyPadding::Pkcs1v15 => Ok(None),
        KeyPadding::OaepSha256 => Ok(Some(&OAEP_SHA256_MGF1SHA256)),
        KeyPadding::OaepSha1 => Ok(Some(&OAEP_SHA1_MGF1SHA1)),
        KeyPadding::OaepSha256Mgf1Sha1 => Err(()),
    }
}

/// Generates a PKCS#8 key with aws-lc (much faster than RustCrypto) for the
/// sizes it supports; `None` otherwise.
pub(crate) fn generate_pkcs8(bits: usize) -> Option<Zeroizing<Vec<u8>>> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return None,
    };
    let pair = KeyPair::generate(size).ok()?;
    let der = pair.as_der().ok()?;
    Some(Zeroizing::new(der.as_ref().to_vec()))
}
