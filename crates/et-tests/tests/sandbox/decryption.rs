//! The sandbox is no decryption oracle: whatever step of decrypting a
//! signed request fails, the refusal has one code and one message.

use crate::common;
use common::started;

use common::post;
use et_crypto::{AesKey, Iv, KeyPadding, PrivateKey, PublicKey, SignHash};
use et_proto::{sign_string, Message, UntypedObject, UntypedValue, CONTENT_TYPE};
use et_sandbox::SandboxCode;
use std::time::SystemTime;

#[tokio::test]
async fn every_decryption_failure_is_one_code_and_one_message() {
    let (dir, sb, m) = started(1.0).await;
    let signing =
        PrivateKey::load(&std::fs::read(dir.path().join("merchant-private.pem")).unwrap()).unwrap();
    let et_public =
        PublicKey::load(&std::fs::read(dir.path().join("et-public.pem")).unwrap()).unwrap();
    let order = et_testkit::order("M-1", "100.00");
    let raw_key = *b"0123456789abcdef";
    let key = AesKey::from_slice(&raw_key).unwrap();
    let seal = |plain: &[u8]| {
        et_crypto::b64_encode(et_crypto::aes_cbc_encrypt(&key, Iv::SameAsKey, plain))
    };
    let wrap =
        |k: &[u8]| et_crypto::b64_encode(et_public.encrypt_key(KeyPadding::Pkcs1v15, k).unwrap());
    let cases = [
        ("!!!!".to_owned(), seal(b"{}")),
        (et_crypto::b64_encode([7u8; 128]), seal(b"{}")),
        (wrap(&raw_key[..15]), seal(b"{}")),
        (wrap(&raw_key), "!!!!".to_owned()),
        (wrap(&raw_key), et_crypto::b64_encode([9u8; 32])),
        (wrap(&raw_key), seal(&[0xff, 0xfe])),
    ];
    let mut messages = Vec::new();
    for (aeskey, sensitive_data) in cases {
        // The merchant's own request, its encrypted parts replaced, signed again.
        let built = m.build(&order, SystemTime::now()).unwrap();
        let mut request = UntypedObject::parse_json(&built.body, Message::Request).unwrap();
        request.insert("aeskey", UntypedValue::string(aeskey));
        request.insert("sensitive_data", UntypedValue::string(sensitive_data));
        request.remove("sign");
        let signature = signing
            .sign(SignHash::Sha256, sign_string(&request).as_bytes())
            .unwrap();
        request.insert(
            "sign",
            UntypedValue::string(et_crypto::b64_encode(signature)),
        );
        let (_, reply) = post(
            &sb.endpoint_url(),
            request.to_json().into_bytes(),
            Some(CONTENT_TYPE),
        )
        .await;
        match m.open_untyped(Some(&built), &reply, SystemTime::now()) {
            Err(et_proto::Error::Api {
                code,
                message,
                authenticated: true,
            }) => {
                assert_eq!(
                    code.as_str(),
                    SandboxCode::DecryptionFailed.as_str(),
                    "{message}"
                );
                messages.push(message);
            }
            other => panic!("expected a signed refusal, got {other:?}"),
        }
    }
    messages.dedup();
    assert_eq!(messages, ["sensitive_data could not be decrypted"]);
    sb.shutdown().await;
}
