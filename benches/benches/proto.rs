//! et-proto: building a create-order envelope, opening a 50-order batch
//! response (each next to its RSA operations alone, same process, same
//! keys, and the open's other steps one by one), verifying a notification,
//! building a sign string.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::SystemTime;

use benches::ThreadCpu;
use benches::{
    batch_response, notification_body, notification_verifier, parties, typical_order, Parties,
    BACKENDS, KEY_BITS, NOW,
};
use criterion::{BenchmarkId, Criterion};
use et_crypto::{aes_cbc_decrypt, b64_decode, AesKey, Iv, KeyPadding, SignHash};
use et_model::{Notification, OrderInfo, QueryOrders};
use et_proto::{read_notification_body, sign_string, Message, UntypedObject};

fn fixtures() -> Vec<(BenchmarkId, Parties)> {
    let mut all = Vec::new();
    for &bits in KEY_BITS {
        for &(name, backend) in BACKENDS {
            let fixture = parties(bits, backend).expect("fixture keys load");
            all.push((BenchmarkId::new(name, bits), fixture));
        }
    }
    all
}

/// An envelope's sign string and its base64 fields, decoded.
fn parts(body: &[u8]) -> (String, Vec<u8>, Vec<u8>) {
    let object =
        UntypedObject::parse_json(body, Message::Request).expect("our own envelope parses");
    let field = |key| b64_decode(object.text(key).unwrap_or_default()).expect("our own base64");
    (sign_string(&object), field("sign"), field("aeskey"))
}

// Each composite is measured right next to its RSA-alone reference (same
// backend and size), so that load changing over the run skews the ratio least.

fn envelope_build(c: &mut Criterion<ThreadCpu>) {
    let order = typical_order().expect("typical order parses");
    for (id, f) in fixtures() {
        c.benchmark_group("envelope_build")
            .bench_function(id.clone(), |b| {
                b.iter(|| f.merchant.build(black_box(&order), SystemTime::now()))
            });
        // The same envelope's RSA work alone: sign its sign string, wrap a 16-byte key.
        let request = f.merchant.build(&order, SystemTime::now()).expect("build");
        let (text, _, _) = parts(&request.body);
        let et_public = f.et_key.public_key();
        c.benchmark_group("envelope_build_rsa")
            .bench_function(id, |b| {
                b.iter(|| {
                    let sign = f
                        .merchant_key
                        .sign(SignHash::Sha256, black_box(text.as_bytes()));
                    let key =
                        et_public.encrypt_key(KeyPadding::Pkcs1v15, black_box(b"0123456789abcdef"));
                    (sign, key)
                })
            });
    }
}

fn response_open(c: &mut Criterion<ThreadCpu>) {
    for (id, f) in fixtures() {
        let (request, body) = batch_response(&f, 50).expect("batch response builds");
        c.benchmark_group("response_open_50")
            .bench_function(id.clone(), |b| {
                b.iter(|| {
                    f.merchant
                        .open::<QueryOrders>(&request, black_box(&body), NOW)
                })
            });
        // The same response's RSA work alone: verify ET's signature, unwrap the AES key.
        let (text, signature, wrapped) = parts(&body);
        let et_public = f.et_key.public_key();
        c.benchmark_group("response_open_50_rsa")
            .bench_function(id, |b| {
                b.iter(|| {
                    let ok =
                        et_public.verify(SignHash::Sha256, black_box(text.as_bytes()), &signature);
                    let key = f
                        .merchant_key
                        .decrypt_key(KeyPadding::Pkcs1v15, black_box(&wrapped));
                    (ok, key)
                })
            });
    }
}

/// Where a 50-order open spends what is not RSA: reading the envelope, the
/// Base64 and AES of `sensitive_data`, and typing the orders, next to JSON
/// syntax alone (serde_json reading the same text into nothing), the floor
/// of any typed reading with serde_json. bench-report sets these beside the
/// 1.2× budget.
fn response_parts(c: &mut Criterion<ThreadCpu>) {
    let f = parties(1024, Some(et_crypto::Backend::RustCrypto)).expect("fixture keys load");
    let (_, body) = batch_response(&f, 50).expect("batch response builds");
    let envelope = UntypedObject::parse_json(&body, Message::Response).expect("parses");
    let field = |key| envelope.text(key).unwrap_or_default().to_owned();
    let (sensitive, wrapped) = (field("sensitive_data"), field("aeskey"));
    let raw_key = b64_decode(&wrapped)
        .ok()
        .and_then(|w| f.merchant_key.decrypt_key(KeyPadding::Pkcs1v15, &w).ok())
        .expect("our own wrapped key");
    let key = AesKey::from_slice(&raw_key).expect("16-byte key");
    let ciphertext = b64_decode(&sensitive).expect("our own base64");
    let plaintext = aes_cbc_decrypt(&key, Iv::SameAsKey, &ciphertext).expect("decrypts");
    let json = std::str::from_utf8(&plaintext).expect("UTF-8").to_owned();
    let id = |step| BenchmarkId::new(step, "50_orders");
    let mut group = c.benchmark_group("response_open_50_parts");
    group.bench_function(id("envelope_read"), |b| {
        b.iter(|| UntypedObject::parse_json(black_box(&body), Message::Response))
    });
    group.bench_function(id("sensitive_base64"), |b| {
        b.iter(|| b64_decode(black_box(&sensitive)))
    });
    group.bench_function(id("sensitive_aes"), |b| {
        b.iter(|| aes_cbc_decrypt(&key, Iv::SameAsKey, black_box(&ciphertext)))
    });
    group.bench_function(id("items_typed"), |b| {
        b.iter(|| serde_json::from_str::<Vec<OrderInfo>>(black_box(&json)))
    });
    group.bench_function(id("items_syntax_only"), |b| {
        b.iter(|| serde_json::from_str::<serde::de::IgnoredAny>(black_box(&json)))
    });
    group.finish();
}

fn notification(c: &mut Criterion<ThreadCpu>) {
    let body = notification_body().expect("notification signs");
    let verifier = notification_verifier();
    let id = BenchmarkId::new("rustcrypto", "6_fields");
    c.benchmark_group("notification_verify")
        .bench_function(id.clone(), |b| {
            b.iter(|| verifier.verify(Some("application/json"), black_box(&body), NOW))
        });
    // Where the time goes: reading the body, the salted MD5 check, typing the fields.
    c.benchmark_group("notification_read")
        .bench_function(id.clone(), |b| {
            b.iter(|| read_notification_body(Some("application/json"), black_box(&body)))
        });
    let object = UntypedObject::parse_json(&body, Message::Notification).expect("parses");
    let text = sign_string(&object);
    let sign = object.text("sign").unwrap_or_default().to_owned();
    c.benchmark_group("notification_md5")
        .bench_function(id.clone(), |b| {
            b.iter(|| et_crypto::md5_verify(benches::NOTIFY_SALT, black_box(&text), &sign))
        });
    let fields: BTreeMap<String, String> = object
        .iter()
        .map(|(k, v)| (k.to_owned(), v.text().to_owned()))
        .collect();
    c.benchmark_group("notification_classify")
        .bench_function(id, |b| {
            b.iter(|| Notification::classify(black_box(&fields)))
        });
}

fn sign_string_build(c: &mut Criterion<ThreadCpu>) {
    let f = parties(1024, Some(et_crypto::Backend::RustCrypto)).expect("fixture keys load");
    let order = typical_order().expect("typical order parses");
    let request = f.merchant.build(&order, SystemTime::now()).expect("build");
    let envelope = UntypedObject::parse_json(&request.body, Message::Request).expect("parses");
    c.benchmark_group("sign_string")
        .bench_function(BenchmarkId::new("none", "envelope_12_keys"), |b| {
            b.iter(|| sign_string(black_box(&envelope)))
        });
}

// What criterion_group!/criterion_main! expand to, minus an undocumented pub fn.
fn main() {
    let mut c = Criterion::default()
        .with_measurement(ThreadCpu)
        .configure_from_args();
    envelope_build(&mut c);
    response_open(&mut c);
    response_parts(&mut c);
    notification(&mut c);
    sign_string_build(&mut c);
    c.final_summary();
}
