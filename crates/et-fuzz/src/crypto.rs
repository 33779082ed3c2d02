//! et-crypto targets: key loading, AES-CBC decryption, Base64.

use et_crypto::{aes_cbc_decrypt, aes_cbc_encrypt, b64_decode, b64_encode, AesKey, Iv};
use et_crypto::{PrivateKey, PublicKey};

/// Loads the input as a private and as a public key (PEM of any label, DER,
/// bare Base64). A key that loads must be 1024–4096 bits and survive a
/// PEM round trip unchanged.
pub fn key_load(data: &[u8]) {
    if let Ok(key) = PrivateKey::load(data) {
        check_bits(key.bits());
        assert_eq!(key.public_key().bits(), key.bits(), "public half size");
        let pem = key
            .to_pkcs8_pem()
            .expect("a loaded private key writes PKCS#8");
        let again = PrivateKey::load(pem.as_bytes()).expect("our own PKCS#8 PEM loads");
        assert_eq!(
            spki(again.public_key()),
            spki(key.public_key()),
            "PKCS#8 round trip"
        );
    }
    if let Ok(key) = PublicKey::load(data) {
        check_bits(key.bits());
        let pem = spki(&key);
        let again = PublicKey::load(pem.as_bytes()).expect("our own SPKI PEM loads");
        assert_eq!(spki(&again), pem, "SPKI round trip");
    }
}

fn check_bits(bits: usize) {
    assert!((1024..=4096).contains(&bits), "loaded a {bits}-bit key");
}

fn spki(key: &PublicKey) -> String {
    key.to_spki_pem().expect("a loaded public key writes SPKI")
}

/// Decrypts the input's tail with its first 16 bytes as key and IV (ET's
/// rule). Whatever decrypts must encrypt back to the same ciphertext
/// (PKCS#7 is deterministic); whatever Base64-decodes must re-encode to
/// text that decodes to the same bytes.
pub fn aes_decrypt(data: &[u8]) {
    let Some((key, ciphertext)) = data.split_first_chunk::<16>() else {
        return;
    };
    let key = AesKey::new(*key);
    if let Ok(plaintext) = aes_cbc_decrypt(&key, Iv::SameAsKey, ciphertext) {
        let again = aes_cbc_encrypt(&key, Iv::SameAsKey, &plaintext);
        assert_eq!(again, ciphertext, "AES-CBC round trip");
    }
    if let Ok(bytes) = b64_decode(ciphertext) {
        let again = b64_decode(b64_encode(&bytes)).expect("our own Base64 decodes");
        assert_eq!(again, bytes, "Base64 round trip");
    }
}
