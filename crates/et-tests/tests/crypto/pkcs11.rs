//! Merchant keys on a real PKCS#11 token (SoftHSM2, feature `pkcs11`):
//! 1024- and 2048-bit keys generated on the token and imported into it
//! sign and unwrap `aeskey` as in-process keys do. Without SoftHSM2 each
//! test says SKIPPED (and fails with `ET_REQUIRE_SERVICES=1`).
#![cfg(feature = "pkcs11")]

use std::sync::OnceLock;

use et_crypto::{
    AesKey, Error, KeyPadding, KeyUnwrap, MerchantKey, Pkcs11Key, Pkcs11Uri, SharedKey, SignHash,
    Signer, TokenCause, TokenStep,
};
use et_testkit::softhsm::SoftHsm;
use et_testkit::{key, pem, Who};

/// The token, with the committed merchant keys imported as `imported-BITS`
/// before any test opens a key on it.
fn token(test: &str) -> Option<&'static SoftHsm> {
    static IMPORTED: OnceLock<()> = OnceLock::new();
    let hsm = SoftHsm::get(test)?;
    IMPORTED.get_or_init(|| {
        for (id, bits) in (1u8..).zip(et_testkit::KEY_SIZES) {
            hsm.import(&format!("imported-{bits}"), id, pem(Who::Merchant, bits));
        }
    });
    Some(hsm)
}

fn uri(hsm: &SoftHsm, object: &str) -> Pkcs11Uri {
    Pkcs11Uri::parse(&hsm.uri(object)).expect("the test URI parses")
}

/// Signs and unwraps with `key` and checks each against its public half.
fn signs_and_unwraps(key: &dyn MerchantKey) {
    let public = key.public_key();
    for hash in [SignHash::Sha256, SignHash::Sha1] {
        let signature = key.sign(hash, b"aeskey=...&version=2.0.0").expect("signs");
        public
            .verify(hash, b"aeskey=...&version=2.0.0", &signature)
            .unwrap_or_else(|e| panic!("{hash:?} signature verifies: {e}"));
    }
    let aes = AesKey::generate();
    let wrapped = public
        .encrypt_key(KeyPadding::Pkcs1v15, aes.as_bytes())
        .expect("wraps");
    let unwrapped = key
        .decrypt_key(KeyPadding::Pkcs1v15, &wrapped)
        .expect("unwraps");
    assert_eq!(unwrapped.as_slice(), aes.as_bytes());
}

#[test]
fn keys_generated_on_the_token_sign_and_unwrap() {
    let Some(hsm) = token("keys_generated_on_the_token_sign_and_unwrap") else {
        return;
    };
    for bits in et_testkit::KEY_SIZES {
        let key = Pkcs11Key::generate(&uri(hsm, &format!("generated-{bits}")), bits)
            .expect("generates on the token");
        assert_eq!(key.public_key().bits(), bits);
        signs_and_unwraps(&key);
    }
}

#[test]
fn an_imported_key_signs_exactly_as_the_same_key_in_process() {
    let Some(hsm) = token("an_imported_key_signs_exactly_as_the_same_key_in_process") else {
        return;
    };
    for bits in et_testkit::KEY_SIZES {
        let on_token = Pkcs11Key::open(&uri(hsm, &format!("imported-{bits}"))).expect("opens");
        let in_process = key(Who::Merchant, bits);
        assert_eq!(
            on_token.public_key().to_spki_pem().expect("exports"),
            in_process.public_key().to_spki_pem().expect("exports"),
            "the token gives the key's public half"
        );
        for hash in [SignHash::Sha256, SignHash::Sha1] {
            // RSASSA-PKCS1-v1_5 is deterministic: one key, one signature.
            assert_eq!(
                on_token.sign(hash, b"k=v").expect("token signs"),
                in_process.sign(hash, b"k=v").expect("key signs"),
            );
        }
        signs_and_unwraps(&on_token);
    }
}

#[test]
fn a_bad_aeskey_fails_as_one_error_whatever_the_token_says() {
    let Some(hsm) = token("a_bad_aeskey_fails_as_one_error_whatever_the_token_says") else {
        return;
    };
    let key = Pkcs11Key::open(&uri(hsm, "imported-1024")).expect("opens");
    let modulus_len = 128;
    for ciphertext in [vec![0u8; modulus_len - 1], vec![0x5a; modulus_len], vec![]] {
        assert_eq!(
            key.decrypt_key(KeyPadding::Pkcs1v15, &ciphertext),
            Err(Error::RsaDecrypt)
        );
    }
    // An OAEP-wrapped key is not a PKCS#1 v1.5 one.
    let oaep = key
        .public_key()
        .encrypt_key(KeyPadding::OaepSha1, &[7; 16])
        .expect("wraps");
    assert_eq!(
        key.decrypt_key(KeyPadding::Pkcs1v15, &oaep),
        Err(Error::RsaDecrypt)
    );
}

#[test]
fn a_uri_naming_no_key_is_a_typed_error() {
    let Some(hsm) = token("a_uri_naming_no_key_is_a_typed_error") else {
        return;
    };
    let missing = Pkcs11Key::open(&uri(hsm, "no-such-key")).expect_err("no key");
    assert_eq!(
        missing,
        Error::Token {
            step: TokenStep::FindKey,
            cause: TokenCause::NoSingleMatch
        }
    );
    let mut other_token = uri(hsm, "imported-1024");
    other_token.token = Some("no-such-token".into());
    assert_eq!(
        Pkcs11Key::open(&other_token).expect_err("no token"),
        Error::Token {
            step: TokenStep::FindToken,
            cause: TokenCause::NoSingleMatch
        }
    );
}

#[test]
fn a_token_key_shows_no_pin() {
    let Some(hsm) = token("a_token_key_shows_no_pin") else {
        return;
    };
    let key = Pkcs11Key::open(&uri(hsm, "imported-1024")).expect("opens");
    let shown = format!("{key:?}");
    let shown = format!("{shown} {:?}", SharedKey::new(key));
    assert!(!shown.contains(et_testkit::softhsm::PIN), "{shown}");
    assert!(shown.contains("object=imported-1024"), "{shown}");
}

#[test]
fn a_shared_key_rolls_over_from_a_file_key_to_a_token_key() {
    let Some(hsm) = token("a_shared_key_rolls_over_from_a_file_key_to_a_token_key") else {
        return;
    };
    let handle = SharedKey::new(key(Who::Et, 1024).clone());
    let token_key = Pkcs11Key::open(&uri(hsm, "imported-2048")).expect("opens");
    let token_public = token_key.public_key().clone();
    handle.replace(token_key);
    let signature = handle
        .current()
        .sign(SignHash::Sha256, b"k=v")
        .expect("signs on the token");
    token_public
        .verify(SignHash::Sha256, b"k=v", &signature)
        .expect("signed by the new key");
}
