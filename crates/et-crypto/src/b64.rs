//! Base64, standard alphabet.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::Error;

/// Writes padded; reads padded or unpadded (tolerant reader).
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as standard-alphabet Base64 with `=` padding and no line breaks.
pub fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes standard-alphabet Base64.
///
/// Tolerant: ASCII whitespace (line breaks from MIME encoders) is skipped and
/// the `=` padding may be missing.
///
/// # Errors
/// [`Error::Base64`] on any other character or an impossible length.
pub fn b64_decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, Error> {
    let text = text.as_ref();
    // Decoded as it is first: looking for whitespace up front cost as much
    // as a quarter of the decode itself on every large `sensitive_data`.
    ENGINE.decode(text).or_else(|_| {
        if !text.iter().any(u8::is_ascii_whitespace) {
            return Err(Error::Base64);
        }
        // Wiped on drop: the text may be a private key's Base64.
        let compact: Zeroizing<Vec<u8>> = Zeroizing::new(
            text.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect(),
        );
        ENGINE.decode(&*compact).map_err(|_| Error::Base64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tolerance() {
        assert_eq!(b64_encode(b"ab"), "YWI=");
        assert_eq!(b64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(b64_decode("YWI").unwrap(), b"ab");
        assert_eq!(b64_decode(" Y W\r\nI=\n").unwrap(), b"ab");
        assert_eq!(b64_decode("YW*="), Err(Error::Base64));
        assert_eq!(b64_decode("Y"), Err(Error::Base64));
    }
}
