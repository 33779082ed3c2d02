//! The two private-key operations a merchant needs, behind small traits, so
//! that the key can live in this process ([`PrivateKey`]) or outside it (a
//! PKCS#11 token, [`Pkcs11Key`](crate::Pkcs11Key) with feature `pkcs11`).

use core::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use zeroize::Zeroizing;

use crate::{Error, KeyPadding, PrivateKey, PublicKey, SignHash};

/// Signs with RSASSA-PKCS1-v1_5 (ET's `sign` field).
pub trait Signer {
    /// Signs `msg` over `hash`.
    ///
    /// # Errors
    /// [`Error::RsaSign`], or `Error::Token` when a token refuses (feature
    /// `pkcs11`).
    fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error>;
}

/// Unwraps an RSA-encrypted AES key (ET's `aeskey`, Base64-decoded).
pub trait KeyUnwrap {
    /// Decrypts `ciphertext`, which must be exactly the modulus size.
    ///
    /// # Errors
    /// [`Error::RsaDecrypt`] for every failure, saying nothing more on
    /// purpose (a reason would be a padding oracle).
    fn decrypt_key(
        &self,
        padding: KeyPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error>;
}

/// A merchant's private key wherever it is kept: signs requests, unwraps
/// the `aeskey` of responses, and knows its public half (what ET and the
/// sandbox hold). `Debug` never shows key material.
pub trait MerchantKey: Signer + KeyUnwrap + Send + Sync + fmt::Debug {
    /// The matching public key.
    fn public_key(&self) -> &PublicKey;
}

impl Signer for PrivateKey {
    fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        PrivateKey::sign(self, hash, msg)
    }
}

impl KeyUnwrap for PrivateKey {
    fn decrypt_key(
        &self,
        padding: KeyPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        PrivateKey::decrypt_key(self, padding, ciphertext)
    }
}

impl MerchantKey for PrivateKey {
    fn public_key(&self) -> &PublicKey {
        PrivateKey::public_key(self)
    }
}

/// A merchant key shared by every clone of this handle and replaceable
/// while in use: the merchant's own rollover, done by configuration
/// ([`SharedKey::replace`]) without restarting whatever signs with it.
/// Each operation uses the key current when it starts.
#[derive(Clone)]
pub struct SharedKey(Arc<RwLock<Arc<dyn MerchantKey>>>);

impl SharedKey {
    /// A handle on `key`.
    pub fn new(key: impl MerchantKey + 'static) -> Self {
        Self::from_arc(Arc::new(key))
    }

    /// A handle on a key already shared.
    pub fn from_arc(key: Arc<dyn MerchantKey>) -> Self {
        SharedKey(Arc::new(RwLock::new(key)))
    }

    /// The key in use now.
    pub fn current(&self) -> Arc<dyn MerchantKey> {
        // A panic while swapping cannot leave a half-written `Arc`.
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The public half of the key in use now.
    pub fn public_key(&self) -> PublicKey {
        self.current().public_key().clone()
    }

    /// Puts `key` in use for every later operation of every clone; returns
    /// the key it replaces.
    pub fn replace(&self, key: impl MerchantKey + 'static) -> Arc<dyn MerchantKey> {
        let mut slot = self.0.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, Arc::new(key))
    }
}

impl<K: MerchantKey + 'static> From<K> for SharedKey {
    fn from(key: K) -> Self {
        SharedKey::new(key)
    }
}

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedKey").field(&self.current()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_a_shared_key_reaches_every_clone() {
        let (first, second) = (
            PrivateKey::generate(1024).expect("key"),
            PrivateKey::generate(1024).expect("key"),
        );
        let second_public = second.public_key().clone();
        let handle = SharedKey::new(first);
        let clone = handle.clone();
        let old = handle.replace(second);
        let signature = clone
            .current()
            .sign(SignHash::Sha256, b"msg")
            .expect("signs");
        second_public
            .verify(SignHash::Sha256, b"msg", &signature)
            .expect("the clone signs with the new key");
        assert!(old
            .public_key()
            .verify(SignHash::Sha256, b"msg", &signature)
            .is_err());
    }

    #[test]
    fn shared_key_debug_shows_no_key_material() {
        let key = PrivateKey::generate(1024).expect("key");
        let shown = format!("{:?}", SharedKey::new(key));
        assert!(shown.starts_with("SharedKey(PrivateKey {"), "{shown}");
        assert!(!shown.contains("BEGIN") && shown.len() < 120, "{shown}");
    }
}
