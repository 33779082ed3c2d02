//! When this instance's serial numbers for a second are used up, the client
//! waits for the next second on tokio's timer: other tasks on the same
//! worker thread run meanwhile, and the request goes out numbered in the
//! next second.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use et_http::{Client, Endpoint, TransportConfig};
use et_model::GetPayUrl;
use et_proto::{Instance, Response, SerialNumbers};
use tokio::time::Instant;

use common::{parties, reply, spawn_server, MERCHANT_NUMBER};

#[tokio::test(start_paused = true)]
async fn an_exhausted_second_is_waited_for_on_tokios_timer_not_the_thread() {
    let (et, merchant) = parties();
    // One serial number per second (instance 0 of 10⁶).
    let one_per_second = Instance::new(0, 1_000_000).unwrap();
    let merchant =
        merchant.with_serial_numbers(SerialNumbers::for_instance(MERCHANT_NUMBER, one_per_second));
    let key = merchant.credentials().merchant_key.public_key().clone();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = log.clone();
    let (addr, _) = spawn_server(move |request: http::Request<bytes::Bytes>| {
        let (et, key, seen) = (et.clone(), key.clone(), seen.clone());
        async move {
            let opened = common::open(&et, &key, &request);
            let second = opened.serial_number[..14].to_owned();
            seen.lock().unwrap().push(format!("request in {second}"));
            let body = et.respond(&key, &Response::success(&opened)).unwrap();
            reply(200, "application/json", body)
        }
    })
    .await;
    // A wall clock that moves with tokio's (paused) one, from 900 ms into
    // 2023-12-04 20:43:37 Beijing time: only tokio's timer advances it.
    let origin = Instant::now();
    let start = UNIX_EPOCH + Duration::from_millis(1_701_693_817_900);
    let endpoint = Endpoint::parse(&format!("http://{addr}/server")).unwrap();
    let client = Client::with_config(endpoint, merchant, TransportConfig::default())
        .unwrap()
        .with_clock(move || start + origin.elapsed());

    client.get_pay_url(&GetPayUrl::new("ET001")).await.unwrap();
    assert!(
        origin.elapsed() < Duration::from_millis(100),
        "still in the first second"
    );
    // Another task on this (single) worker thread, due 50 ms into the wait.
    let other = tokio::spawn({
        let log = log.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            log.lock().unwrap().push("other task ran".to_owned());
        }
    });
    client.get_pay_url(&GetPayUrl::new("ET001")).await.unwrap();
    other.await.unwrap();

    assert_eq!(
        *log.lock().unwrap(),
        [
            "request in 20231204204337",
            "other task ran",
            "request in 20231204204338",
        ]
    );
    assert!(
        origin.elapsed() >= Duration::from_millis(100),
        "waited on tokio's clock for the next second"
    );
}
