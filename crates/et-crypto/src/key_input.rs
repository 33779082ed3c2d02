//! Turns key input (PEM, DER or bare Base64, any line endings) into parsed
//! PKCS#1 structures, and says precisely what was wrong when it cannot.

use rsa::pkcs1;
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;
use rsa::pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use zeroize::Zeroizing;

use crate::{b64_decode, Error};

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Supported modulus sizes, in bits.
pub(crate) const MIN_BITS: usize = 1024;
pub(crate) const MAX_BITS: usize = 4096;

/// A key's DER, zeroized when dropped because it may hold a private key.
type Der = Zeroizing<Vec<u8>>;

/// The RSA key an input holds, as borrowed PKCS#1 structures.
pub(crate) enum Parsed<'a> {
    Private(pkcs1::RsaPrivateKey<'a>),
    Public(pkcs1::RsaPublicKey<'a>),
}

/// Strips the PEM armour or Base64 from `input`, giving DER.
pub(crate) fn to_der(input: &[u8]) -> Result<Der, Error> {
    let text = input.trim_ascii();
    if text.starts_with(b"-----BEGIN ") {
        return pem_body(text);
    }
    let looks_base64 = !text.is_empty()
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b) || b.is_ascii_whitespace());
    if looks_base64 {
        b64_decode(text)
            .map(Zeroizing::new)
            .map_err(|_| Error::UnsupportedKeyFormat)
    } else if input.first() == Some(&0x30) {
        // Every key structure is a DER SEQUENCE.
        Ok(Zeroizing::new(input.to_vec()))
    } else {
        Err(Error::UnsupportedKeyFormat)
    }
}

/// Parses DER as any of PKCS#8, PKCS#1 private, SPKI or PKCS#1 public,
/// whatever the PEM label said (labels are often wrong in the wild).
pub(crate) fn parse(der: &[u8]) -> Result<Parsed<'_>, Error> {
    if let Ok(info) = PrivateKeyInfo::from_der(der) {
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(Error::UnsupportedKeyFormat);
        }
        let key = pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|_| Error::KeyParse)?;
        return checked(Parsed::Private(key));
    }
    if let Ok(key) = pkcs1::RsaPrivateKey::from_der(der) {
        return checked(Parsed::Private(key));
    }
    if let Ok(info) = SubjectPublicKeyInfoRef::from_der(der) {
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(Error::UnsupportedKeyFormat);
        }
        let bits = info.subject_public_key.as_bytes().ok_or(Error::KeyParse)?;
        let key = pkcs1::RsaPublicKey::from_der(bits).map_err(|_| Error::KeyParse)?;
        return checked(Parsed::Public(key));
    }
    if let Ok(key) = pkcs1::RsaPublicKey::from_der(der) {
        return checked(Parsed::Public(key));
    }
    if looks_password_encrypted(der) {
        return Err(Error::EncryptedKey);
    }
    Err(Error::KeyParse)
}

fn checked(parsed: Parsed<'_>) -> Result<Parsed<'_>, Error> {
    let modulus = match &parsed {
        Parsed::Private(key) => key.modulus.as_bytes(),
        Parsed::Public(key) => key.modulus.as_bytes(),
    };
    let bits = modulus_bits(modulus);
    if (MIN_BITS..=MAX_BITS).contains(&bits) {
        Ok(parsed)
    } else {
        Err(Error::KeySize { bits })
    }
}

/// Bit length of a big-endian unsigned integer.
fn modulus_bits(be: &[u8]) -> usize {
    let Some(pos) = be.iter().position(|&b| b != 0) else {
        return 0;
    };
    let rest = be.get(pos..).unwrap_or_default();
    let lead = rest.first().map_or(0, |b| b.leading_zeros() as usize);
    rest.len() * 8 - lead
}

/// Finds the Base64 body between `-----BEGIN X-----` and `-----END X-----`.
fn pem_body(text: &[u8]) -> Result<Der, Error> {
    let text = core::str::from_utf8(text).map_err(|_| Error::UnsupportedKeyFormat)?;
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or(Error::UnsupportedKeyFormat)?;
    match label {
        "ENCRYPTED PRIVATE KEY" => return Err(Error::EncryptedKey),
        "RSA PRIVATE KEY" | "PRIVATE KEY" | "RSA PUBLIC KEY" | "PUBLIC KEY" => {}
        _ => return Err(Error::UnsupportedKeyFormat),
    }
    let mut body = Zeroizing::new(String::new());
    for line in lines {
        if line.starts_with("-----END ") {
            return b64_decode(body.as_bytes())
                .map(Zeroizing::new)
                .map_err(|_| Error::KeyParse);
        }
        // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`).
        if let Some((name, value)) = line.split_once(':') {
            if name.trim() == "Proc-Type" && value.contains("ENCRYPTED") {
                return Err(Error::EncryptedKey);
            }
            continue;
        }
        body.push_str(line);
    }
    Err(Error::KeyParse)
}

/// A PKCS#8 EncryptedPrivateKeyInfo starts with an algorithm identifier
/// from PKCS#5 (1.2.840.113549.1.5.*) or PKCS#12 (1.2.840.113549.1.12.1.*).
/// Only consulted after every real parser failed, to give a better error.
fn looks_password_encrypted(der: &[u8]) -> bool {
    const PKCS5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
    const PKCS12_PBE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
    let head = der.get(..der.len().min(24)).unwrap_or_default();
    head.windows(PKCS5.len()).any(|w| w == PKCS5)
        || head.windows(PKCS12_PBE.len()).any(|w| w == PKCS12_PBE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(modulus_bits(&[]), 0);
        assert_eq!(modulus_bits(&[0, 0]), 0);
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0]), 9);
    }

    #[test]
    fn oversized_modulus_is_a_size_error() {
        // PKCS#1 RSAPublicKey { n: 4097 bits, e: 65537 }, built by hand.
        let mut der = vec![0x30, 0x82, 0x02, 0x0a, 0x02, 0x82, 0x02, 0x01, 0x01];
        der.extend([0xff; 512]);
        der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(parse(&der).err(), Some(Error::KeySize { bits: 4097 }));
    }

    #[test]
    fn pem_errors() {
        assert_eq!(
            to_der(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").err(),
            Some(Error::UnsupportedKeyFormat)
        );
        assert_eq!(
            to_der(
                b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"
            )
            .err(),
            Some(Error::EncryptedKey)
        );
        assert_eq!(
            to_der(b"-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-128-CBC,00\r\n\r\nAAAA\r\n-----END RSA PRIVATE KEY-----").err(),
            Some(Error::EncryptedKey)
        );
        assert_eq!(
            to_der(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").err(),
            Some(Error::KeyParse)
        );
    }
}
