//! Instruction counts of the hot paths, under valgrind's callgrind
//! (gungraun). Unlike the criterion benches' times, a count repeats for the
//! same binary whatever else the machine does, so CI holds each one against
//! the baseline in `benches/instructions-baseline.json`
//! (`cargo xtask instructions`; `--update` rewrites the baseline).
//!
//! Every path runs with RustCrypto's RSA (pure Rust, the same instructions
//! on every machine) at ET's 1024 bits. Composite paths are paired with
//! their RSA work alone, so the report can state the part that is not RSA;
//! notification verify is paired with the salted MD5 of its sign string.

// gungraun's macros generate a module per benchmark, without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::SystemTime;

use benches::{notification_body, notification_verifier, parties, typical_order, NOW};
use bytes::Bytes;
use et_crypto::{b64_decode, Backend, KeyPadding, PrivateKey, PublicKey, SignHash};
use et_model::{CreateOrder, OrderInfo, QueryOrders};
use et_proto::{
    sign_string, BuiltRequest, Merchant, Message, NotificationVerifier, UntypedObject,
    VerifiedNotification,
};
use gungraun::{
    library_benchmark, library_benchmark_group, main, Callgrind, LibraryBenchmarkConfig,
};
use http_body_util::Full;
use tower_service::Service;

/// The RSA operations, left out of a composite's count: callgrind turns
/// collection off on entering each (and on again on leaving), so what is
/// counted is the rest of the path. (Subtracting a separate RSA-alone count
/// does not work: blinding makes RSA's count move by ±0.3 %, more than the
/// whole non-RSA part of an open.)
const RSA_OPERATIONS: &[&str] = &[
    "et_crypto::keys::PrivateKey::sign",
    "et_crypto::keys::PrivateKey::decrypt_key",
    "et_crypto::keys::PublicKey::verify",
    "et_crypto::keys::PublicKey::encrypt_key",
];

fn without_rsa() -> LibraryBenchmarkConfig {
    let toggles = RSA_OPERATIONS.iter().map(|f| format!("toggle-collect={f}"));
    let mut config = LibraryBenchmarkConfig::default();
    config.tool(Callgrind::with_args(toggles));
    config
}

/// ET's key size, RustCrypto's RSA.
fn fixture() -> benches::Parties {
    parties(1024, Some(Backend::RustCrypto)).expect("fixture keys load")
}

/// An envelope's sign string and its Base64 `sign` and `aeskey`, decoded.
fn rsa_inputs(body: &[u8], message: Message) -> (String, Vec<u8>, Vec<u8>) {
    let object = UntypedObject::parse_json(body, message).expect("our own envelope parses");
    let field = |key| b64_decode(object.text(key).unwrap_or_default()).expect("our own base64");
    (sign_string(&object), field("sign"), field("aeskey"))
}

fn setup_build() -> (Merchant, CreateOrder, SystemTime) {
    let order = typical_order().expect("typical order");
    (fixture().merchant, order, SystemTime::now())
}

fn setup_build_rsa() -> (PrivateKey, PublicKey, String) {
    let f = fixture();
    let request = f
        .merchant
        .build(&typical_order().expect("typical order"), SystemTime::now())
        .expect("build");
    let (text, _, _) = rsa_inputs(&request.body, Message::Request);
    (f.merchant_key.clone(), f.et_key.public_key().clone(), text)
}

// A create-order envelope: validate, serialize, AES, RSA sign and wrap.
#[library_benchmark]
#[bench::create_order(setup = setup_build)]
#[bench::create_order_without_rsa(setup = setup_build, config = without_rsa())]
fn envelope_build((merchant, order, now): (Merchant, CreateOrder, SystemTime)) -> BuiltRequest {
    black_box(merchant.build(black_box(&order), now).expect("builds"))
}

// The same envelope's RSA work alone.
#[library_benchmark]
#[bench::create_order(setup = setup_build_rsa)]
fn envelope_build_rsa((key, et_public, text): (PrivateKey, PublicKey, String)) -> usize {
    let sign = key.sign(SignHash::Sha256, black_box(text.as_bytes()));
    let wrapped = et_public.encrypt_key(KeyPadding::Pkcs1v15, black_box(b"0123456789abcdef"));
    black_box(
        sign.map(|s| s.len()).unwrap_or_default() + wrapped.map(|w| w.len()).unwrap_or_default(),
    )
}

/// The committed answer (`benches::batch_fixture`): made here, its signing
/// would be counted in the without-RSA count (the RSA toggles fire in setup too).
fn setup_open() -> (Merchant, BuiltRequest, Vec<u8>) {
    let (request, body) = benches::batch_fixture().expect("fixture");
    (fixture().merchant, request, body)
}

fn setup_open_rsa() -> (PrivateKey, PublicKey, String, Vec<u8>, Vec<u8>) {
    let f = fixture();
    let (_, body) = benches::batch_fixture().expect("fixture");
    let (text, signature, wrapped) = rsa_inputs(&body, Message::Response);
    (
        f.merchant_key.clone(),
        f.et_key.public_key().clone(),
        text,
        signature,
        wrapped,
    )
}

// ET's answer to a 50-order query: verify, unwrap, decrypt, read typed.
#[library_benchmark]
#[bench::query_50_orders(setup = setup_open)]
#[bench::query_50_orders_without_rsa(setup = setup_open, config = without_rsa())]
fn response_open((merchant, request, body): (Merchant, BuiltRequest, Vec<u8>)) -> usize {
    let reply = merchant.open::<QueryOrders>(&request, black_box(&body), NOW);
    black_box(reply.map(|r| r.items.len()).unwrap_or_default())
}

// The same answer's RSA work alone.
#[library_benchmark]
#[bench::query_50_orders(setup = setup_open_rsa)]
fn response_open_rsa(
    (key, et_public, text, signature, wrapped): (PrivateKey, PublicKey, String, Vec<u8>, Vec<u8>),
) -> bool {
    let verified = et_public.verify(SignHash::Sha256, black_box(text.as_bytes()), &signature);
    let unwrapped = key.decrypt_key(KeyPadding::Pkcs1v15, black_box(&wrapped));
    black_box(verified.is_ok() && unwrapped.is_ok())
}

fn setup_items() -> String {
    let items: Vec<OrderInfo> = (0..50)
        .map(|i| {
            serde_json::from_str(&format!(
                r#"{{"order_id":"ET20241201{i:06}","merchant_order_id":"M-{i}","order_status":{},"tuition_rmb":91234.50,"counter_fee":0,"currency_code":"GBP","tuituon":10000.00}}"#,
                i % 5
            ))
        })
        .collect::<Result<_, _>>()
        .expect("orders");
    serde_json::to_string(&items).expect("serializes")
}

// Typed payload reading: 50 orders' JSON into `OrderInfo`s.
#[library_benchmark]
#[bench::order_info_50(setup = setup_items)]
fn payload_typed(json: String) -> usize {
    black_box(
        serde_json::from_str::<Vec<OrderInfo>>(black_box(&json))
            .map(|items| items.len())
            .unwrap_or_default(),
    )
}

fn setup_envelope() -> UntypedObject {
    let request = fixture()
        .merchant
        .build(&typical_order().expect("typical order"), SystemTime::now())
        .expect("build");
    UntypedObject::parse_json(&request.body, Message::Request).expect("parses")
}

// The sign string of a create-order envelope (12 keys).
#[library_benchmark]
#[bench::envelope_12_keys(setup = setup_envelope)]
fn sign_string_build(envelope: UntypedObject) -> String {
    black_box(sign_string(black_box(&envelope)))
}

fn setup_notification() -> (NotificationVerifier, Vec<u8>) {
    (notification_verifier(), notification_body().expect("signs"))
}

// A payment notification: read the body, check the salted MD5, classify.
// The inputs are handed back, as in `notification_md5`, so that dropping
// them (zeroizing the salt, freeing the body) is not counted: both count
// only their work.
#[library_benchmark]
#[bench::payment_6_fields(setup = setup_notification)]
fn notification_verify(
    (verifier, body): (NotificationVerifier, Vec<u8>),
) -> (bool, (NotificationVerifier, Vec<u8>)) {
    let ok = verifier
        .verify(Some("application/json"), black_box(&body), NOW)
        .is_ok();
    (black_box(ok), (verifier, body))
}

fn setup_md5() -> (String, String) {
    let body = notification_body().expect("signs");
    let object = UntypedObject::parse_json(&body, Message::Notification).expect("parses");
    let sign = object.text("sign").unwrap_or_default().to_owned();
    (sign_string(&object), sign)
}

// The salted MD5 check of the same notification's sign string alone: the
// floor of notification verify.
#[library_benchmark]
#[bench::payment_6_fields(setup = setup_md5)]
fn notification_md5((text, sign): (String, String)) -> (bool, (String, String)) {
    let ok = et_crypto::md5_verify(benches::NOTIFY_SALT, black_box(&text), &sign);
    (black_box(ok), (text, sign))
}

type Receiver = et_http::WebhookReceiver<
    fn(VerifiedNotification) -> std::future::Ready<Result<(), et_http::HandlerError>>,
>;

fn accept(
    notification: VerifiedNotification,
) -> std::future::Ready<Result<(), et_http::HandlerError>> {
    black_box(notification);
    std::future::ready(Ok(()))
}

type Notify = http::Request<Full<Bytes>>;

fn notify(body: Bytes) -> Notify {
    http::Request::post("/notify")
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("request")
}

/// The runtime and the receiver, for every call: starting and stopping
/// them is no request's work.
static WEBHOOK: LazyLock<(tokio::runtime::Runtime, Receiver)> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let receiver: Receiver = et_http::WebhookReceiver::new(notification_verifier(), accept);
    (runtime, receiver)
});

fn setup_webhook() -> Notify {
    let (runtime, receiver) = &*WEBHOOK;
    let body = Bytes::from(notification_body().expect("signs"));
    // One request first, so that what a process does once (its first
    // notification's log lines, tables built on first use) is not counted.
    let warm = runtime.block_on(receiver.clone().call(notify(body.clone())));
    assert!(warm.is_ok_and(|answer| answer.status().is_success()));
    notify(body)
}

// The webhook receiver's per-request work without the socket, in a warm
// process: one POST (built in the setup, as hyper hands it over) through
// its `tower_service::Service`, verified, handled, acknowledged.
#[library_benchmark]
#[bench::payment(setup = setup_webhook)]
fn webhook_request(request: Notify) -> bool {
    let (runtime, receiver) = &*WEBHOOK;
    let answer = runtime.block_on(receiver.clone().call(black_box(request)));
    black_box(answer.map(|r| r.status().is_success()).unwrap_or_default())
}

library_benchmark_group!(
    name = proto,
    benchmarks = [
        envelope_build,
        envelope_build_rsa,
        response_open,
        response_open_rsa,
        payload_typed,
        sign_string_build,
        notification_verify,
        notification_md5
    ]
);
library_benchmark_group!(name = webhook, benchmarks = [webhook_request]);

main!(library_benchmark_groups = proto, webhook);
