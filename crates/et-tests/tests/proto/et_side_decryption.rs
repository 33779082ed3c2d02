//! ET's side is no decryption oracle: every way a request's `aeskey` or
//! `sensitive_data` fails to decrypt gives one error with one message, and
//! only the configured padding is tried unless detection is switched on.

use crate::common;

use common::Parties;
use et_crypto::{AesKey, Iv, KeyPadding};
use et_model::CreateOrder;
use et_proto::{DecryptionStep, Error, Message, Profile, UntypedObject, UntypedValue};

fn order() -> CreateOrder {
    et_testkit::order("M-1", "100.00")
}

/// The merchant's request with `aeskey` and `sensitive_data` replaced and
/// the merchant's signature renewed: only decryption can fail.
fn resigned(parties: &Parties, aeskey: &str, sensitive_data: &str) -> Vec<u8> {
    let built = parties.build(&order());
    let mut object = UntypedObject::parse_json(&built.body, Message::Request).unwrap();
    object.insert("aeskey", UntypedValue::string(aeskey));
    object.insert("sensitive_data", UntypedValue::string(sensitive_data));
    et_testkit::resign(&mut object, common::key(common::Who::Merchant, 1024)).unwrap();
    object.to_json().into_bytes()
}

#[test]
fn every_decryption_failure_gives_one_error_and_one_message() {
    let parties = Parties::same(1024, Profile::default());
    let et_public = parties.et.public_key().clone();
    let wrap = |key: &[u8]| {
        et_crypto::b64_encode(et_public.encrypt_key(KeyPadding::Pkcs1v15, key).unwrap())
    };
    let raw_key = *b"0123456789abcdef";
    let key = AesKey::from_slice(&raw_key).unwrap();
    let seal = |plain: &[u8]| {
        et_crypto::b64_encode(et_crypto::aes_cbc_encrypt(&key, Iv::SameAsKey, plain))
    };
    let good_data = seal(b"{}");
    let cases = [
        (
            "aeskey not Base64",
            "!!!!".to_owned(),
            good_data.clone(),
            DecryptionStep::AeskeyBase64,
        ),
        (
            "aeskey not an RSA ciphertext",
            et_crypto::b64_encode([7u8; 128]),
            good_data.clone(),
            DecryptionStep::Aeskey,
        ),
        (
            "aeskey of 15 bytes",
            wrap(&raw_key[..15]),
            good_data.clone(),
            DecryptionStep::Aeskey,
        ),
        (
            "sensitive_data not Base64",
            wrap(&raw_key),
            "!!!!".to_owned(),
            DecryptionStep::SensitiveDataBase64,
        ),
        (
            "sensitive_data badly padded",
            wrap(&raw_key),
            et_crypto::b64_encode([9u8; 32]),
            DecryptionStep::SensitiveData,
        ),
        (
            "sensitive_data not UTF-8",
            wrap(&raw_key),
            seal(&[0xff, 0xfe]),
            DecryptionStep::SensitiveDataUtf8,
        ),
    ];
    let mut messages = Vec::new();
    for (what, aeskey, data, step) in cases {
        let error = parties
            .et
            .open_request(
                &resigned(&parties, &aeskey, &data),
                parties.lookup(),
                std::time::SystemTime::now(),
            )
            .unwrap_err();
        assert_eq!(error, Error::Decryption { step }, "{what}");
        messages.push(error.to_string());
    }
    messages.dedup();
    assert_eq!(messages, ["sensitive_data could not be decrypted"]);
    // The untouched request opens, so the cases above fail only where they say.
    let body = resigned(
        &parties,
        &wrap(&raw_key),
        &seal(br#"{"merchant_order_id":"M-1"}"#),
    );
    assert!(parties
        .et
        .open_request(&body, parties.lookup(), std::time::SystemTime::now())
        .is_ok());
}

#[test]
fn et_side_tries_only_the_configured_padding_unless_detection_is_on() {
    let oaep = Profile {
        key_padding: KeyPadding::OaepSha256,
        ..Profile::default()
    };
    let parties = Parties::with_profiles(1024, oaep.clone(), Profile::default());
    let request = parties.build(&order());
    assert_eq!(
        parties
            .et
            .open_request(
                &request.body,
                parties.lookup(),
                std::time::SystemTime::now()
            )
            .unwrap_err(),
        Error::Decryption {
            step: DecryptionStep::Aeskey
        }
    );
    let detecting = Profile {
        detect_key_padding: true,
        ..Profile::default()
    };
    let parties = Parties::with_profiles(1024, oaep, detecting);
    let request = parties.build(&order());
    assert!(parties
        .et
        .open_request(
            &request.body,
            parties.lookup(),
            std::time::SystemTime::now()
        )
        .is_ok());
}
