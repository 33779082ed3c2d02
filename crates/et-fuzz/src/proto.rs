//! et-proto targets: the sign string, both envelope openers, notifications.
//!
//! A fuzzer never forges an RSA signature or an MD5 over a salt, so each
//! opener runs twice: on the input as it is (the rejection paths), then on
//! the input re-signed with the right fixture key (every step after the
//! signature check). A body we signed ourselves must never fail its
//! signature check.

use std::time::SystemTime;

use et_crypto::{aes_cbc_encrypt, b64_encode, AesKey, Iv, PrivateKey};
use et_model::{CreateOrder, Operation, QueryOrders, ServerType};
use et_proto::{
    read_notification_body, sign_notification, sign_string_with, v1_printed_string, Error, Message,
    OpenedRequest, SignRule, UntypedObject, UntypedValue, ValueKind, VerifiedNotification,
    SIGN_KEY,
};

use crate::fixtures::{Fixtures, NOTIFY_SALT};

/// The time every target verifies at: the fixtures accept no rollover key
/// or salt, so none expires, and a fixed time keeps each run reproducible.
const NOW: SystemTime = SystemTime::UNIX_EPOCH;

/// The `Content-Type` a notification input is read with, chosen by its first byte (modulo).
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain; charset=utf-8"),
    Some("multipart/form-data; boundary=x"),
];

/// Reads the input as a JSON object, else as a form body, and checks the
/// sign string: independent of key order and of `sign`'s value, and the
/// object's JSON text reads back to the same object.
pub fn sign_string(data: &[u8]) {
    let parsed = UntypedObject::parse_json(data, Message::Notification)
        .or_else(|_| UntypedObject::parse_form(data));
    let Ok(object) = parsed else { return };
    let expected = et_proto::sign_string(&object);
    let entries: Vec<(String, UntypedValue)> = object
        .iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
    let reversed: UntypedObject = entries.iter().rev().cloned().collect();
    assert_eq!(
        et_proto::sign_string(&reversed),
        expected,
        "depends on key order"
    );
    let mut mid = entries;
    let half = mid.len() / 2;
    mid.rotate_left(half);
    let rotated: UntypedObject = mid.into_iter().collect();
    assert_eq!(
        et_proto::sign_string(&rotated),
        expected,
        "depends on key order"
    );
    let mut resigned = object.clone();
    resigned.insert(SIGN_KEY, UntypedValue::string("anything"));
    assert_eq!(
        et_proto::sign_string(&resigned),
        expected,
        "depends on `sign`"
    );
    let reread = UntypedObject::parse_json(object.to_json().as_bytes(), Message::Notification)
        .expect("UntypedObject's own JSON reads back");
    assert_eq!(reread, object, "JSON round trip");
    let _ = sign_string_with(&object, SignRule::SkipEmpty);
    let _ = v1_printed_string(&object);
}

/// Opens the input as ET's response to the merchant. Which typed opener
/// runs on the re-signed body is chosen by the input length, so that each
/// input costs one RSA decryption.
pub fn open_response(data: &[u8]) {
    let f = &Fixtures::get().parties;
    let request = Fixtures::request(ServerType::CreateOrder);
    let _ = f.merchant.open_untyped(Some(&request), data, NOW);
    let Some(body) = resign(data, &f.et_key) else {
        return;
    };
    let outcome = match data.len() % 3 {
        0 => f
            .merchant
            .open_untyped(Some(&request), &body, NOW)
            .map(drop),
        1 => f
            .merchant
            .open::<CreateOrder>(&request, &body, NOW)
            .map(drop),
        _ => f
            .merchant
            .open::<QueryOrders>(&request, &body, NOW)
            .map(drop),
    };
    match outcome {
        Err(Error::SignatureMismatch { .. }) => panic!("a response signed by ET did not verify"),
        Err(Error::Api { authenticated, .. }) => {
            // Signed by ET, it answers this request exactly when it echoes
            // the request's `return_info` (the fixture's is empty).
            let echoes = UntypedObject::parse_json(&body, Message::Response)
                .ok()
                .is_some_and(|reply| {
                    reply.text("return_info") == Some(request.return_info.as_str())
                });
            assert_eq!(
                authenticated, echoes,
                "an error response signed by ET is authenticated exactly when it echoes the request"
            );
        }
        _ => {}
    }
}

/// Opens the input as a merchant's request on ET's side, then reads it as
/// every operation.
pub fn open_request(data: &[u8]) {
    let f = &Fixtures::get().parties;
    let lookup = |_: &str, _: &str| Some(f.merchant_key.public_key().clone());
    if let Ok(opened) = f.et.open_request(data, lookup, NOW) {
        read_as_every_operation(&opened);
    }
    let Some(body) = resign(data, &f.merchant_key) else {
        return;
    };
    match f.et.open_request(&body, lookup, NOW) {
        Ok(opened) => read_as_every_operation(&opened),
        Err(Error::SignatureMismatch { .. }) => {
            panic!("a request signed by the merchant did not verify")
        }
        Err(_) => {}
    }
}

fn read_as_every_operation(opened: &OpenedRequest) {
    macro_rules! read {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            $( let _ = opened.operation::<et_model::$op>(); )*
        };
    }
    et_model::for_each_operation!(read);
    let _ = opened.data_json();
    let _ = opened.server_type_code();
}

/// The input's JSON object with a valid `sign` by `key` (default profile).
fn resign(data: &[u8], key: &PrivateKey) -> Option<Vec<u8>> {
    let mut object = UntypedObject::parse_json(data, Message::Request).ok()?;
    et_testkit::resign(&mut object, key).ok()?;
    Some(object.to_json().into_bytes())
}

/// Reads and verifies the input as a notification: first byte picks the
/// `Content-Type` from [`CONTENT_TYPES`], the rest is the body. The fields
/// read are then signed with the salt and must verify.
pub fn notification(data: &[u8]) {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(*selector) % CONTENT_TYPES.len()];
    let f = Fixtures::get();
    if let Ok(view) = f.verifier.verify(content_type, body, NOW) {
        if let Ok(verified) = view.to_verified() {
            assert_eq!(
                view.dedup_key(),
                verified.dedup_key(),
                "view and owned differ"
            );
            inspect(&verified);
        }
    }
    let Ok(fields) = read_notification_body(content_type, body) else {
        return;
    };
    if let Ok(view) = f.verifier.verify(content_type, body, NOW) {
        assert_eq!(
            view.fields().to_object(),
            fields,
            "the verifier read other fields than the full reader"
        );
    }
    let signed = sign_notification(NOTIFY_SALT, fields);
    match f
        .verifier
        .verify_owned(Some("application/json"), &signed, NOW)
    {
        Ok(verified) => inspect(&verified),
        Err(Error::SignatureMismatch { .. }) => {
            panic!("a notification signed with the salt did not verify")
        }
        Err(_) => {}
    }
}

fn inspect(verified: &VerifiedNotification) {
    assert!(
        !verified.acknowledgement().is_empty(),
        "empty acknowledgement"
    );
    let _ = verified.dedup_key();
    let _ = (
        verified.kind(),
        verified.matched_rule(),
        verified.notification().order_id(),
    );
}

/// After the signature check, as ET's response: the first 16 bytes are the
/// AES key, the rest the body, opened as every operation's reply. The body
/// is opened as it is; then its `sensitive_data` payload is set as plain
/// text (empty `aeskey`) and, once more, encrypted under the key (so that
/// the fuzzer's plain JSON reaches the parsers through AES). Those two
/// carry the same keys and the same payload, so they must be judged alike:
/// sealing a payload never changes how it reads.
pub fn open_response_unsealed(data: &[u8]) {
    unsealed(data, opens_as_each::<Responses>);
}

/// After the signature check, as a merchant's request on ET's side; input
/// as for [`open_response_unsealed`].
pub fn open_request_unsealed(data: &[u8]) {
    unsealed(data, opens_as_each::<Requests>);
}

/// One side's opener among et-proto's fuzzing entry points: whether `body`
/// opens under `key` as operation `Op`.
trait Opener {
    fn opens<Op: Operation>(body: &[u8], key: &AesKey) -> bool;
}

/// ET's responses, as a merchant opens them.
struct Responses;

impl Opener for Responses {
    fn opens<Op: Operation>(body: &[u8], key: &AesKey) -> bool {
        et_proto::fuzzing::open_response::<Op>(body, key).is_ok()
    }
}

/// Merchants' requests, as ET opens them.
struct Requests;

impl Opener for Requests {
    fn opens<Op: Operation>(body: &[u8], key: &AesKey) -> bool {
        et_proto::fuzzing::open_request::<Op>(body, key).is_ok()
    }
}

/// Whether `body` opens under `key` as each operation, in the one list's order.
fn opens_as_each<O: Opener>(body: &[u8], key: &AesKey) -> Vec<bool> {
    macro_rules! open {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            vec![$( O::opens::<et_model::$op>(body, key) ),*]
        };
    }
    et_model::for_each_operation!(open)
}

/// `open` says, per operation, whether the body opened as it.
fn unsealed(data: &[u8], open: impl Fn(&[u8], &AesKey) -> Vec<bool>) {
    let Some((key, body)) = data.split_first_chunk::<16>() else {
        return;
    };
    let key = AesKey::new(*key);
    open(body, &key);
    let Ok(mut object) = UntypedObject::parse_json(body, Message::Request) else {
        return;
    };
    let plain = payload(object.get("sensitive_data"));
    let sealed = aes_cbc_encrypt(&key, Iv::SameAsKey, plain.as_bytes());
    // Both readings carry `sensitive_data`: a body without the key (a
    // refused reply) must not compare with one that has it.
    object.insert("sensitive_data", UntypedValue::string(&plain));
    object.insert("aeskey", UntypedValue::string(""));
    let as_plain = open(object.to_json().as_bytes(), &key);
    object.insert("sensitive_data", UntypedValue::string(b64_encode(sealed)));
    object.insert("aeskey", UntypedValue::string("wrapped"));
    let as_sealed = open(object.to_json().as_bytes(), &key);
    assert_eq!(
        as_plain, as_sealed,
        "encrypting sensitive_data changed how it reads"
    );
}

/// A payload field's JSON text: a string's content, or a nested object's
/// or array's JSON (the forms the openers read).
fn payload(value: Option<&UntypedValue>) -> String {
    match value.map(UntypedValue::kind) {
        Some(ValueKind::String) => value.map(UntypedValue::text).unwrap_or_default().to_owned(),
        Some(ValueKind::Object | ValueKind::Array) => {
            value.map(UntypedValue::json).unwrap_or_default().to_owned()
        }
        _ => String::new(),
    }
}
