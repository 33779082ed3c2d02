//! The merchant's own key rolls over in a running client: replacing its
//! `SharedKey` makes the next request signed (and its reply unwrapped)
//! with the new key, without building a new client.

use crate::common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use et_crypto::PublicKey;
use et_model::GetPayUrl;
use et_proto::Response;
use et_testkit::{key, Who};

use common::{parties, reply, spawn_server};

#[tokio::test]
async fn a_replaced_merchant_key_signs_the_next_request_without_a_new_client() {
    let (et, merchant) = parties();
    // ET's record of the merchant's key, which the merchant updates with ET
    // before switching.
    let registered = Arc::new(Mutex::new(merchant.credentials().merchant_key.public_key()));
    let known = registered.clone();
    let (addr, _) = spawn_server(move |request: http::Request<Bytes>| {
        let (et, known) = (et.clone(), known.clone());
        async move {
            let key: PublicKey = known.lock().unwrap().clone();
            let answer = match et.open_request(
                request.body(),
                |_, _| Some(key.clone()),
                std::time::SystemTime::now(),
            ) {
                Ok(opened) => Response::success(&opened),
                Err(e) => {
                    Response::new(et_model::ReplyCode::from_code("100004"), e.to_string(), "")
                }
            };
            reply(200, "application/json", et.respond(&key, &answer).unwrap())
        }
    })
    .await;
    let client = common::client_once(addr, merchant);
    client
        .call(&GetPayUrl::new("ET1"))
        .await
        .expect("signed with the first key");

    let new_key = key(Who::Merchant, 2048).clone();
    *registered.lock().unwrap() = new_key.public_key().clone();
    // ET now knows only the new key: the old one is refused.
    assert!(client.call(&GetPayUrl::new("ET1")).await.is_err());
    client
        .merchant()
        .credentials()
        .merchant_key
        .replace(new_key);
    client
        .call(&GetPayUrl::new("ET1"))
        .await
        .expect("signed with the new key by the same client");
}
