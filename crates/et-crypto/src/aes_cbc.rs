//! AES-128-CBC with PKCS#7 padding, ET's `sensitive_data` cipher.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use core::fmt;
use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;

/// A 16-byte AES-128 key. Zeroized on drop; `Debug` prints no key bytes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AesKey([u8; 16]);

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl AesKey {
    /// 16 random characters from `[A-Za-z0-9]`, drawn from the OS CSPRNG
    /// without modulo bias. ET's demo uses a 16-character string as the key,
    /// the IV and the RSA plaintext; this keeps "16 bytes" and "string" equal.
    ///
    /// # Panics
    /// Only if the operating system's random source fails.
    pub fn generate() -> Self {
        let mut key = [0u8; 16];
        let mut filled = 0;
        let mut pool = Zeroizing::new([0u8; 32]);
        while filled < key.len() {
            OsRng.fill_bytes(pool.as_mut());
            // 248 = 4 * 62: rejecting bytes >= 248 keeps every character equally likely.
            for &byte in pool.iter().filter(|&&b| b < 248) {
                if let (Some(slot), Some(&c)) = (
                    key.get_mut(filled),
                    ALPHANUMERIC.get(usize::from(byte % 62)),
                ) {
                    *slot = c;
                    filled += 1;
                }
            }
        }
        AesKey(key)
    }

    /// Wraps 16 raw key bytes.
    pub fn new(bytes: [u8; 16]) -> Self {
        AesKey(bytes)
    }

    /// Takes a key from a slice, e.g. the output of RSA-decrypting `aeskey`.
    ///
    /// # Errors
    /// [`Error::AesKeyLength`] unless the slice is exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        <[u8; 16]>::try_from(bytes)
            .map(AesKey)
            .map_err(|_| Error::AesKeyLength { len: bytes.len() })
    }

    /// The key bytes (what gets RSA-encrypted into `aeskey`).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Constant-time comparison.
impl PartialEq for AesKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for AesKey {}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

/// Which IV to use with AES-CBC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Iv {
    /// The IV is the key itself: ET's rule ("the offset is KeyStr itself").
    #[default]
    SameAsKey,
    /// A distinct 16-byte IV.
    Explicit([u8; 16]),
}

impl Iv {
    fn resolve(self, key: &AesKey) -> [u8; 16] {
        match self {
            Iv::SameAsKey => key.0,
            Iv::Explicit(iv) => iv,
        }
    }
}

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

// The ciphers hold the key schedule and the IV (= the key by default): both
// must be wiped on drop (the `zeroize` features of `aes` and `cbc`).
const _: fn() = || {
    fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
    zeroized_on_drop::<Enc>();
    zeroized_on_drop::<Dec>();
};

/// AES-128-CBC encryption with PKCS#7 padding. Returns raw ciphertext
/// (a positive multiple of 16 bytes); Base64 it with [`crate::b64_encode`].
pub fn aes_cbc_encrypt(key: &AesKey, iv: Iv, plaintext: &[u8]) -> Vec<u8> {
    let iv = Zeroizing::new(iv.resolve(key));
    Enc::new(&key.0.into(), &(*iv).into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext)
}

/// AES-128-CBC decryption with PKCS#7 padding removal.
///
/// # Errors
/// [`Error::AesCiphertextLength`] if the input is empty or not a multiple of
/// 16 bytes; [`Error::AesPadding`] if the padding is invalid (which is what
/// a wrong key or IV usually produces).
pub fn aes_cbc_decrypt(
    key: &AesKey,
    iv: Iv,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    aes_cbc_decrypt_owned(key, iv, ciphertext.to_vec())
}

/// [`aes_cbc_decrypt`] in the ciphertext's own buffer: no second buffer
/// for the plaintext (a response's `sensitive_data` runs to kilobytes).
/// The buffer is wiped on drop whatever the outcome, since a failed
/// decryption leaves decrypted bytes in it.
///
/// # Errors
/// As [`aes_cbc_decrypt`].
pub fn aes_cbc_decrypt_owned(
    key: &AesKey,
    iv: Iv,
    ciphertext: Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let len = ciphertext.len();
    if len == 0 || len % 16 != 0 {
        return Err(Error::AesCiphertextLength { len });
    }
    let mut buffer = Zeroizing::new(ciphertext);
    let iv = Zeroizing::new(iv.resolve(key));
    let plaintext_len = Dec::new(&key.0.into(), &(*iv).into())
        .decrypt_padded_mut::<Pkcs7>(&mut buffer)
        .map_err(|_| Error::AesPadding)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_alphanumeric_and_distinct() {
        let (a, b) = (AesKey::generate(), AesKey::generate());
        assert!(a.as_bytes().iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
    }

    #[test]
    fn decrypting_in_place_agrees_with_decrypting_a_copy() {
        let key = AesKey::new(*b"0123456789abcdef");
        for len in [0, 1, 15, 16, 17, 1000] {
            let plaintext = vec![b'x'; len];
            let ct = aes_cbc_encrypt(&key, Iv::SameAsKey, &plaintext);
            let owned = aes_cbc_decrypt_owned(&key, Iv::SameAsKey, ct.clone()).unwrap();
            assert_eq!(*owned, plaintext);
            assert_eq!(owned, aes_cbc_decrypt(&key, Iv::SameAsKey, &ct).unwrap());
        }
        let mut bad = aes_cbc_encrypt(&key, Iv::SameAsKey, b"abc");
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            aes_cbc_decrypt_owned(&key, Iv::SameAsKey, bad),
            Err(Error::AesPadding)
        );
        assert_eq!(
            aes_cbc_decrypt_owned(&key, Iv::SameAsKey, vec![0; 15]),
            Err(Error::AesCiphertextLength { len: 15 })
        );
    }

    #[test]
    fn debug_is_redacted() {
        let key = AesKey::new(*b"SECRETSECRETSECR");
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("83"),
            "{shown}"
        );
    }

    #[test]
    fn length_errors() {
        let key = AesKey::new([7; 16]);
        assert_eq!(
            AesKey::from_slice(&[0; 15]),
            Err(Error::AesKeyLength { len: 15 })
        );
        assert_eq!(
            aes_cbc_decrypt(&key, Iv::SameAsKey, &[]).map(|_| ()),
            Err(Error::AesCiphertextLength { len: 0 })
        );
        assert_eq!(
            aes_cbc_decrypt(&key, Iv::SameAsKey, &[0; 17]).map(|_| ()),
            Err(Error::AesCiphertextLength { len: 17 })
        );
    }

    #[test]
    fn wrong_key_is_a_typed_error() {
        let ct = aes_cbc_encrypt(&AesKey::new([1; 16]), Iv::SameAsKey, b"{\"a\":1}");
        let out = aes_cbc_decrypt(&AesKey::new([2; 16]), Iv::SameAsKey, &ct);
        assert_eq!(out.map(|_| ()), Err(Error::AesPadding));
    }
}
