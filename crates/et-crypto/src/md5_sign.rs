//! ET's notification signature: lowercase hex MD5 of `salt ‖ message`.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// ET's salted MD5 fed piece by piece: `salt`, then the message in as many
/// slices as it comes in, so a sign string is hashed without being joined
/// into one buffer first (RustCrypto's `Digest` shape, cut to what ET needs).
///
/// ```
/// use et_crypto::SaltedMd5;
/// let mut md5 = SaltedMd5::new("salt");
/// for piece in ["a", "=", "1"] {
///     md5.update(piece);
/// }
/// assert_eq!(md5.clone().finalize_hex(), et_crypto::md5_hex("salt", "a=1"));
/// assert!(md5.verify_hex(et_crypto::md5_hex("salt", "a=1")));
/// ```
#[derive(Clone)]
pub struct SaltedMd5(Md5);

impl SaltedMd5 {
    /// Starts the digest with `salt` (prepended with no separator).
    pub fn new(salt: impl AsRef<[u8]>) -> Self {
        let mut md5 = SaltedMd5(Md5::new());
        md5.update(salt);
        md5
    }

    /// Appends `bytes` to the message.
    pub fn update(&mut self, bytes: impl AsRef<[u8]>) {
        self.append(bytes.as_ref());
    }

    // The hashing itself is compiled once, here, whoever calls it: every
    // caller runs the same machine code (not a copy inlined into each,
    // placed and so timed differently).
    #[inline(never)]
    fn append(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest as 32 lowercase hex characters.
    pub fn finalize_hex(self) -> String {
        let mut out = String::with_capacity(32);
        for byte in self.finalize() {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Whether `sign_hex` (upper- or lower-case) is this digest, compared in
    /// constant time; anything but 32 hex digits is `false`.
    pub fn verify_hex(self, sign_hex: impl AsRef<[u8]>) -> bool {
        parse_hex16(sign_hex.as_ref()).is_some_and(|received| self.verify(&received))
    }

    /// Whether `digest` (a parsed `sign`, see [`md5_sign_digest`]) is this
    /// digest, compared in constant time.
    pub fn verify(self, digest: &[u8; 16]) -> bool {
        bool::from(self.finalize().ct_eq(digest))
    }

    #[inline(never)]
    fn finalize(self) -> [u8; 16] {
        self.0.finalize().into()
    }
}

/// `md5_hex(salt ‖ message)` as 32 lowercase hex characters (ET's v2
/// notification `sign`; the salt is prepended with no separator).
pub fn md5_hex(salt: impl AsRef<[u8]>, message: impl AsRef<[u8]>) -> String {
    let mut md5 = SaltedMd5::new(salt);
    md5.update(message);
    md5.finalize_hex()
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
    let mut md5 = SaltedMd5::new(salt);
    md5.update(message);
    md5.verify_hex(sign_hex)
}

/// A received `sign` as the 16 bytes it spells (upper- or lower-case hex),
/// or `None` when it is not 32 hex digits: the cheap check to run before
/// any hashing, and the form [`SaltedMd5::verify`] takes.
pub fn md5_sign_digest(sign_hex: impl AsRef<[u8]>) -> Option<[u8; 16]> {
    parse_hex16(sign_hex.as_ref())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn parse_hex16(text: &[u8]) -> Option<[u8; 16]> {
    let text: &[u8; 32] = text.try_into().ok()?;
    let mut out = [0u8; 16];
    // Every digit is looked up, its value or'ed into `bad` too: one test at
    // the end instead of a branch per digit.
    let mut bad = 0;
    let value = |digit: &u8| HEX_VALUES[usize::from(*digit)];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = (
            pair.first().map_or(0xff, value),
            pair.get(1).map_or(0xff, value),
        );
        bad |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (bad & !0x0f == 0).then_some(out)
}

/// Each byte's value as a hex digit (upper- or lower-case), or `0xff` for a
/// byte that is not one.
const HEX_VALUES: [u8; 256] = {
    let mut values = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        values[HEX[i] as usize] = i as u8;
        values[HEX[i].to_ascii_uppercase() as usize] = i as u8;
        i += 1;
    }
    values
};

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "extend_info=&order_id=ETxxxxxxxxxxxx01&pay_amount=10000.00&pay_datetime=2024-12-01 10:00:00&pay_result=1";

    proptest::proptest! {
        /// Any 32 bytes, mostly hex digits of either case: the digest they
        /// spell, as the standard library reads each pair, or none.
        #[test]
        fn a_sign_parses_as_its_pairs_of_hex_digits_or_not_at_all(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                32,
            )
        ) {
            let expected: Option<Vec<u8>> = text
                .chunks_exact(2)
                .map(|pair| {
                    let pair = std::str::from_utf8(pair).ok()?;
                    pair.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u8::from_str_radix(pair, 16).ok())?
                })
                .collect();
            proptest::prop_assert_eq!(parse_hex16(&text).map(|d| d.to_vec()), expected);
        }
    }

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
    fn pieces_hash_as_their_concatenation() {
        let mut md5 = SaltedMd5::new("abc123");
        for piece in MSG.split_inclusive('&') {
            md5.update(piece);
        }
        assert_eq!(md5.clone().finalize_hex(), md5_hex("abc123", MSG));
        let digest = md5_sign_digest("652614570BCC49940D7DCC7A3C3DC7E5").unwrap();
        assert!(md5.verify(&digest));
        assert_eq!(md5_sign_digest("652614570bcc49940d7dcc7a3c3dc7e"), None);
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
