//! A serial number ET refuses as already used (e.g. by a process that
//! restarted within the same second) is retried once with a fresh serial
//! number, and only when ET's refusal is authentic.

use crate::common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use et_http::{Client, Endpoint, Error, TransportConfig};
use et_model::{GetPayUrl, ReplyCode};
use et_proto::{EtSide, Merchant, Profile, Response, SerialNumbers};

use common::{parties_with, reply, spawn_server, MERCHANT_NUMBER};

const REUSED: &str = "100003";

/// A profile naming `REUSED` as ET's reused-serial code (the default names
/// none: ET's code is not documented).
fn naming_the_code() -> Profile {
    Profile {
        reused_serial_code: Some(ReplyCode::from_code(REUSED)),
        ..Profile::default()
    }
}

/// What the fake ET does with a request whose serial number it has seen.
#[derive(Clone, Copy)]
enum OnReuse {
    /// Refuse it with `100003`, signed.
    Refuse,
    /// Refuse it with `100003`, but the signature does not verify.
    RefuseUnsigned,
}

/// The second every serial number of these tests is numbered in.
fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_701_693_817)
}

/// Serial numbers whose first draw is always suffix 42.
fn fixed_serials() -> SerialNumbers {
    SerialNumbers::new(MERCHANT_NUMBER).with_rng(|| 42)
}

/// An ET that remembers serial numbers, seeded with the one a previous
/// process used; returns its address and the serials of the requests it got.
async fn et_remembering(
    et: Arc<EtSide>,
    merchant: &Merchant,
    used_before: String,
    on_reuse: OnReuse,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let key = merchant.credentials().merchant_key.public_key().clone();
    let used = Arc::new(Mutex::new(HashSet::from([used_before])));
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let (addr, _) = spawn_server(move |request: http::Request<bytes::Bytes>| {
        let (et, key, used, log) = (et.clone(), key.clone(), used.clone(), log.clone());
        async move {
            let opened = common::open(&et, &key, &request);
            log.lock().unwrap().push(opened.serial_number.clone());
            let fresh = used.lock().unwrap().insert(opened.serial_number.clone());
            let response = if fresh {
                Response::success(&opened)
            } else {
                Response::new(
                    ReplyCode::from_code(REUSED),
                    "serial_number already used",
                    opened.return_info.clone(),
                )
            };
            let mut body = String::from_utf8(et.respond(&key, &response).unwrap()).unwrap();
            if !fresh && matches!(on_reuse, OnReuse::RefuseUnsigned) {
                body = body.replace("already used", "already usedX");
            }
            reply(200, "application/json", body)
        }
    })
    .await;
    (addr, received)
}

async fn call_with(profile: Profile, on_reuse: OnReuse) -> (Result<(), Error>, Vec<String>) {
    let (et, merchant) = parties_with(profile);
    let merchant = merchant.with_serial_numbers(fixed_serials());
    // The serial a process restarted within this second would send first.
    let used_before = fixed_serials().next_serial(frozen()).unwrap();
    let (addr, received) = et_remembering(et, &merchant, used_before.clone(), on_reuse).await;
    let client = common::client_once(addr, merchant).with_clock(frozen);
    let result = client.get_pay_url(&GetPayUrl::new("ET001")).await;
    let received = received.lock().unwrap().clone();
    assert_eq!(
        received[0], used_before,
        "the first attempt reused the serial"
    );
    (result.map(drop), received)
}

#[tokio::test]
async fn a_signed_reused_serial_refusal_is_retried_once_with_a_fresh_serial() {
    let (result, received) = call_with(naming_the_code(), OnReuse::Refuse).await;
    result.unwrap();
    assert_eq!(received.len(), 2);
    assert_ne!(received[0], received[1], "the retry has a fresh serial");
}

#[tokio::test]
async fn an_unsigned_reused_serial_refusal_is_not_retried() {
    let (result, received) = call_with(naming_the_code(), OnReuse::RefuseUnsigned).await;
    let e = result.unwrap_err();
    assert_eq!(e.api_status().map(ReplyCode::as_str), Some(REUSED));
    assert_eq!(received.len(), 1, "a forged refusal may hide a success");
}

#[tokio::test]
async fn the_default_profile_names_no_reused_serial_code_so_nothing_is_retried() {
    assert_eq!(Profile::default().reused_serial_code, None);
    let (result, received) = call_with(Profile::default(), OnReuse::Refuse).await;
    assert_eq!(
        result.unwrap_err().api_status().map(ReplyCode::as_str),
        Some(REUSED)
    );
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn a_second_reuse_refusal_is_returned_not_retried_again() {
    // An ET that refuses every serial number as used.
    let (et, merchant) = parties_with(naming_the_code());
    let key = merchant.credentials().merchant_key.public_key().clone();
    let (addr, seen) = spawn_server(move |request: http::Request<bytes::Bytes>| {
        let (et, key) = (et.clone(), key.clone());
        async move {
            let opened = common::open(&et, &key, &request);
            let refusal = Response::new(
                ReplyCode::from_code(REUSED),
                "serial_number already used",
                opened.return_info.clone(),
            );
            reply(200, "application/json", et.respond(&key, &refusal).unwrap())
        }
    })
    .await;
    let endpoint = Endpoint::parse(&format!("http://{addr}/server")).unwrap();
    let client = Client::with_config(endpoint, merchant, TransportConfig::default()).unwrap();
    let e = client
        .get_pay_url(&GetPayUrl::new("ET001"))
        .await
        .unwrap_err();
    assert_eq!(e.api_status().map(ReplyCode::as_str), Some(REUSED));
    assert!(e.may_have_reached_et());
    assert_eq!(seen.requests(), 2, "one retry, no more");
}
