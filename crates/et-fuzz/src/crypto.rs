//! et-crypto targets: key loading, AES-CBC decryption, Base64, and the
//! differential target over every RSA backend compiled in.

use std::sync::OnceLock;

use et_crypto::{aes_cbc_decrypt, aes_cbc_encrypt, b64_decode, b64_encode, AesKey, Iv};
use et_crypto::{Backend, KeyPadding, PrivateKey, PublicKey, SignHash};
use rsa::pkcs8::DecodePrivateKey;

use et_testkit::Who;

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

/// The fixture keys (merchant, 1024 and 2048 bits) pinned to each backend
/// compiled in, and the raw `rsa` key for building inputs.
struct Differential {
    keys: Vec<(rsa::RsaPrivateKey, Vec<(Backend, PrivateKey)>)>,
}

fn differential() -> &'static Differential {
    static KEYS: OnceLock<Differential> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = [1024, 2048]
            .into_iter()
            .map(|bits| {
                let key = et_testkit::key(Who::Merchant, bits);
                let pem = key.to_pkcs8_pem().expect("fixture key exports");
                let raw = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("rsa reads our PKCS#8");
                let pinned = Backend::ALL
                    .iter()
                    .map(|&b| (b, key.clone().with_backend(b)))
                    .collect();
                (raw, pinned)
            })
            .collect();
        Differential { keys }
    })
}

const PADDINGS: [KeyPadding; 4] = [
    KeyPadding::Pkcs1v15,
    KeyPadding::OaepSha256,
    KeyPadding::OaepSha1,
    KeyPadding::OaepSha256Mgf1Sha1,
];

/// Every backend compiled in must judge the same input alike: accept or
/// refuse, and give the same bytes. The first byte picks the key size (bit
/// 0), the operation (bits 1–2), the padding (bits 3–4) and the hash (bit
/// 5); the
/// rest is the input:
/// * 0: an encoded message (the padded block), raw-RSA-encrypted so that
///   the backends' padding checks see exactly these bytes; decrypt it;
/// * 1: a ciphertext, decrypted as is;
/// * 2: an encoded message, raw-RSA-signed; verify it over `"et"`;
/// * 3: a message: every backend signs it (same bytes: PKCS#1 v1.5 is
///   deterministic) and encrypts it, and every other backend verifies and
///   decrypts that.
pub fn backends_agree(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let (raw, keys) = &differential().keys[usize::from(selector & 1)];
    let padding = PADDINGS[usize::from(selector >> 3) % PADDINGS.len()];
    let hash = if selector & 0x20 == 0 {
        SignHash::Sha256
    } else {
        SignHash::Sha1
    };
    match (selector >> 1) & 3 {
        0 => {
            let Some(ct) = raw_rsa(raw, input, false) else {
                return;
            };
            let _ = agree("decrypt padded block", keys, |k| {
                k.decrypt_key(padding, &ct).map(|pt| pt.to_vec())
            });
        }
        1 => {
            let _ = agree("decrypt ciphertext", keys, |k| {
                k.decrypt_key(padding, input).map(|pt| pt.to_vec())
            });
        }
        2 => {
            let Some(sig) = raw_rsa(raw, input, true) else {
                return;
            };
            let _ = agree("verify encoded message", keys, |k| {
                k.public_key().verify(hash, b"et", &sig)
            });
        }
        _ => {
            let signatures = agree("sign", keys, |k| k.sign(hash, input));
            for (producer, producer_key) in keys {
                let ct = producer_key.public_key().encrypt_key(padding, input);
                for (consumer, consumer_key) in keys {
                    if let Ok(sig) = &signatures {
                        assert_eq!(
                            consumer_key.public_key().verify(hash, input, sig),
                            Ok(()),
                            "{consumer:?} refused a signature all backends made"
                        );
                    }
                    if let Ok(ct) = &ct {
                        let pt = consumer_key.decrypt_key(padding, ct);
                        assert_eq!(
                            pt.as_deref().map(Vec::as_slice),
                            Ok(input),
                            "{producer:?} encrypted, {consumer:?} decrypted ({padding:?})"
                        );
                    }
                }
            }
        }
    }
}

/// Runs `op` on every backend's key; panics unless all results are equal.
fn agree<T: PartialEq + core::fmt::Debug>(
    what: &str,
    keys: &[(Backend, PrivateKey)],
    op: impl Fn(&PrivateKey) -> Result<T, et_crypto::Error>,
) -> Result<T, et_crypto::Error> {
    let mut results = keys.iter().map(|(b, k)| (*b, op(k)));
    let (first_backend, first) = results.next().expect("RustCrypto is always compiled in");
    for (backend, result) in results {
        // Outcomes are compared, not error texts: backends may fail at
        // different steps, and must all say nothing more than "failed".
        assert_eq!(
            result.as_ref().ok(),
            first.as_ref().ok(),
            "{what}: {backend:?} and {first_backend:?} disagree"
        );
    }
    first
}

/// `input` as an integer below the modulus, raised to `d` (`sign`) or `e`,
/// as a modulus-sized big-endian block; `None` when it is not below `n`.
fn raw_rsa(key: &rsa::RsaPrivateKey, input: &[u8], sign: bool) -> Option<Vec<u8>> {
    use rsa::traits::PublicKeyParts;
    let m = rsa::BigUint::from_bytes_be(input);
    if &m >= key.n() {
        return None;
    }
    let c = if sign {
        rsa::hazmat::rsa_decrypt_and_check(key, None::<&mut rsa::rand_core::OsRng>, &m).ok()?
    } else {
        rsa::hazmat::rsa_encrypt(key, &m).ok()?
    };
    let bytes = c.to_bytes_be();
    let mut block = vec![0; key.size().checked_sub(bytes.len())?];
    block.extend(bytes);
    Some(block)
}
