//! Turns key input (PEM, DER or bare Base64, any line endings) into parsed
//! PKCS#1 structures, and says precisely what was wrong when it cannot.

use rsa::pkcs1;
use rsa::pkcs8::der::asn1::AnyRef;
use rsa::pkcs8::der::{Decode, Reader, SliceReader};
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;
use rsa::pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use zeroize::Zeroizing;

use crate::{b64_decode, Error, KeyFormat};

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Supported modulus sizes, in bits.
pub(crate) const MIN_BITS: usize = 1024;
pub(crate) const MAX_BITS: usize = 4096;

/// The smallest public exponent accepted: F4. Smaller exponents (3, 17)
/// are what Bleichenbacher's e=3 signature forgeries and broadcast attacks
/// need, and no ET counterpart uses them.
pub(crate) const MIN_PUBLIC_EXPONENT: u64 = 65_537;

/// A key's DER, zeroized when dropped because it may hold a private key.
type Der = Zeroizing<Vec<u8>>;

/// The RSA key an input holds, as borrowed PKCS#1 structures.
pub(crate) enum Parsed<'a> {
    Private(pkcs1::RsaPrivateKey<'a>),
    Public(pkcs1::RsaPublicKey<'a>),
}

/// A key input with its armour removed: the DER, and the format its PEM
/// label promised (`None` for bare DER or Base64, which carry no label).
pub(crate) struct Unarmoured {
    pub(crate) der: Der,
    pub(crate) label: Option<KeyFormat>,
}

/// Strips the PEM armour or Base64 from `input`, giving DER.
pub(crate) fn to_der(input: &[u8]) -> Result<Unarmoured, Error> {
    let text = input.trim_ascii();
    if text.starts_with(b"-----BEGIN ") {
        return pem_body(text);
    }
    let looks_base64 = !text.is_empty()
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b) || b.is_ascii_whitespace());
    let der = if looks_base64 {
        b64_decode(text).map_err(|_| Error::UnsupportedKeyFormat)?
    } else if input.first() == Some(&0x30) {
        // Every key structure is a DER SEQUENCE.
        input.to_vec()
    } else {
        return Err(Error::UnsupportedKeyFormat);
    };
    Ok(Unarmoured {
        der: Zeroizing::new(der),
        label: None,
    })
}

/// Parses DER as one of PKCS#8, PKCS#1 private, SPKI or PKCS#1 public. A
/// PEM label must name the structure actually inside: a loader that trusts
/// the content over the label lets a private key pass as a public one.
pub(crate) fn parse(input: &Unarmoured) -> Result<Parsed<'_>, Error> {
    let der = input.der.as_slice();
    if holds_more_than_one_element(der) {
        return Err(Error::KeyTrailingData);
    }
    let (found, parsed) = parse_any(der)?;
    match input.label {
        Some(label) if label != found => Err(Error::KeyLabelMismatch { label, found }),
        _ => checked(parsed),
    }
}

fn parse_any(der: &[u8]) -> Result<(KeyFormat, Parsed<'_>), Error> {
    if let Ok(info) = PrivateKeyInfo::from_der(der) {
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(Error::UnsupportedKeyFormat);
        }
        let key = pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|_| Error::KeyParse)?;
        return Ok((KeyFormat::Pkcs8, Parsed::Private(key)));
    }
    if let Ok(key) = pkcs1::RsaPrivateKey::from_der(der) {
        return Ok((KeyFormat::Pkcs1Private, Parsed::Private(key)));
    }
    if let Ok(info) = SubjectPublicKeyInfoRef::from_der(der) {
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(Error::UnsupportedKeyFormat);
        }
        let bits = info.subject_public_key.as_bytes().ok_or(Error::KeyParse)?;
        let key = pkcs1::RsaPublicKey::from_der(bits).map_err(|_| Error::KeyParse)?;
        return Ok((KeyFormat::Spki, Parsed::Public(key)));
    }
    if let Ok(key) = pkcs1::RsaPublicKey::from_der(der) {
        return Ok((KeyFormat::Pkcs1Public, Parsed::Public(key)));
    }
    if looks_password_encrypted(der) {
        return Err(Error::EncryptedKey);
    }
    Err(Error::KeyParse)
}

/// True when `der` starts with a well-formed DER element and something
/// follows it (a second key, or garbage appended to the first).
fn holds_more_than_one_element(der: &[u8]) -> bool {
    let Ok(mut reader) = SliceReader::new(der) else {
        return false;
    };
    AnyRef::decode(&mut reader).is_ok() && !reader.is_finished()
}

fn checked(parsed: Parsed<'_>) -> Result<Parsed<'_>, Error> {
    let (modulus, exponent) = match &parsed {
        Parsed::Private(key) => (key.modulus.as_bytes(), key.public_exponent.as_bytes()),
        Parsed::Public(key) => (key.modulus.as_bytes(), key.public_exponent.as_bytes()),
    };
    check_components(modulus, exponent)?;
    Ok(parsed)
}

/// The size and exponent rules every key passes, on its big-endian
/// modulus and public exponent.
pub(crate) fn check_components(modulus: &[u8], exponent: &[u8]) -> Result<(), Error> {
    let bits = modulus_bits(modulus);
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(Error::KeySize { bits });
    }
    let exponent = saturating_u64(exponent);
    if exponent < MIN_PUBLIC_EXPONENT || exponent % 2 == 0 {
        return Err(Error::PublicExponent { exponent });
    }
    Ok(())
}

/// A big-endian unsigned integer's value, `u64::MAX` when it does not fit
/// (such exponents are refused later by the `rsa` crate's own bound).
fn saturating_u64(be: &[u8]) -> u64 {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let digits = be.get(start..).unwrap_or_default();
    if digits.len() > 8 {
        return u64::MAX;
    }
    digits.iter().fold(0, |acc, &b| acc << 8 | u64::from(b))
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
/// The END line must repeat the label, and only whitespace may follow it
/// (`text` is already trimmed): one key per input. RFC 1421 headers
/// (`Name: value`) may come before the body only: a line with a colon
/// after the body has begun is refused, not skipped, so what loads is
/// every line of the body.
fn pem_body(text: &[u8]) -> Result<Unarmoured, Error> {
    let text = core::str::from_utf8(text).map_err(|_| Error::UnsupportedKeyFormat)?;
    // Each line with its 1-based number, for the errors.
    let mut lines = text.lines().map(str::trim).zip(1..);
    let label_text = lines
        .next()
        .and_then(|(l, _)| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or(Error::UnsupportedKeyFormat)?;
    let label = match label_text {
        "ENCRYPTED PRIVATE KEY" => return Err(Error::EncryptedKey),
        "PRIVATE KEY" => KeyFormat::Pkcs8,
        "RSA PRIVATE KEY" => KeyFormat::Pkcs1Private,
        "PUBLIC KEY" => KeyFormat::Spki,
        "RSA PUBLIC KEY" => KeyFormat::Pkcs1Public,
        _ => return Err(Error::UnsupportedKeyFormat),
    };
    let mut body = Zeroizing::new(String::new());
    while let Some((line, number)) = lines.next() {
        if let Some(end) = line.strip_prefix("-----END ") {
            if end.strip_suffix("-----") != Some(label_text) {
                return Err(Error::PemEnd);
            }
            if lines.next().is_some() {
                return Err(Error::KeyTrailingData);
            }
            let der = b64_decode(body.as_bytes()).map_err(|_| Error::KeyParse)?;
            return Ok(Unarmoured {
                der: Zeroizing::new(der),
                label: Some(label),
            });
        }
        // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`).
        if let Some((name, value)) = line.split_once(':') {
            if !body.is_empty() {
                return Err(Error::PemHeaderInBody { line: number });
            }
            if name.trim() == "Proc-Type" && value.contains("ENCRYPTED") {
                return Err(Error::EncryptedKey);
            }
            continue;
        }
        body.push_str(line);
    }
    Err(Error::PemEnd)
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
        let input = Unarmoured {
            der: Zeroizing::new(der),
            label: None,
        };
        assert_eq!(parse(&input).err(), Some(Error::KeySize { bits: 4097 }));
    }

    #[test]
    fn exponent_values() {
        assert_eq!(saturating_u64(&[]), 0);
        assert_eq!(saturating_u64(&[0, 1, 0, 1]), 65_537);
        assert_eq!(
            saturating_u64(&[0, 1, 2, 3, 4, 5, 6, 7, 8]),
            0x0102_0304_0506_0708
        );
        assert_eq!(saturating_u64(&[1; 9]), u64::MAX);
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
            Some(Error::PemEnd)
        );
        assert_eq!(
            to_der(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----").err(),
            Some(Error::PemEnd)
        );
    }
}
