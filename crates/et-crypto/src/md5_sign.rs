//! ET's notification signature: lowercase hex MD5 of `salt ‖ message`.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// `md5_hex(salt ‖ message)` as 32 lowercase hex characters (ET's v2
/// notification `sign`; the salt is prepended with no separator).
pub fn md5_hex(salt: impl AsRef<[u8]>, message: impl AsRef<[u8]>) -> String {
    let digest = md5_raw(salt.as_ref(), message.as_ref());
    let mut out = String::with_capacity(32);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Checks a received notification `sign` against `md5_hex(salt ‖ message)`.
///
/// Accepts upper- or lower-case hex and compares the digests in constant
/// time. Anything that is not 32 hex digits is simply `false`.
pub fn md5_verify(
    salt: impl AsRef<[u8]>,
    message: impl AsRef<[u8]>,
    sign_hex: impl AsRef<[u8]>,
) -> bool {
    let Some(received) = parse_hex16(sign_hex.as_ref()) else {
        return false;
    };
    let expected = md5_raw(salt.as_ref(), message.as_ref());
    bool::from(expected.ct_eq(&received))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn md5_raw(salt: &[u8], message: &[u8]) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(salt);
    hasher.update(message);
    hasher.finalize().into()
}

fn parse_hex16(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = (hex_value(*pair.first()?)?, hex_value(*pair.get(1)?)?);
        *byte = (hi << 4) | lo;
    }
    Some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "extend_info=&order_id=ETxxxxxxxxxxxx01&pay_amount=10000.00&pay_datetime=2024-12-01 10:00:00&pay_result=1";

    #[test]
    fn et_published_example() {
        assert_eq!(md5_hex("abc123", MSG), "652614570bcc49940d7dcc7a3c3dc7e5");
        assert!(md5_verify(
            "abc123",
            MSG,
            "652614570bcc49940d7dcc7a3c3dc7e5"
        ));
        assert!(md5_verify(
            "abc123",
            MSG,
            "652614570BCC49940D7DCC7A3C3DC7E5"
        ));
    }

    #[test]
    fn rejects_mismatch_and_malformed() {
        assert!(!md5_verify(
            "abc124",
            MSG,
            "652614570bcc49940d7dcc7a3c3dc7e5"
        ));
        assert!(!md5_verify(
            "abc123",
            MSG,
            "652614570bcc49940d7dcc7a3c3dc7e"
        ));
        assert!(!md5_verify(
            "abc123",
            MSG,
            "652614570bcc49940d7dcc7a3c3dc7eg"
        ));
        assert!(!md5_verify("abc123", MSG, ""));
    }
}
