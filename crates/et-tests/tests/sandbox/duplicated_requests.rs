//! A request duplicated on the way, or an old signed refusal handed back,
//! never makes ET act twice: et-http's client, talking to the sandbox
//! through a proxy that sends each request twice (and answers with the
//! second copy's reply) or replays a refusal it kept.

use crate::common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::*;
use et_http::{Client, Endpoint, TransportConfig};
use et_model::{AttachmentType, UploadAttachment};
use et_proto::Profile;
use et_sandbox::{RunningSandbox, SandboxCode};
use et_testkit::http::{reply, spawn_server};
use et_testkit::order;

/// What the proxy does with each request.
#[derive(Clone, Copy)]
enum Proxy {
    /// Sends it twice, answers with the second reply.
    Duplicate,
    /// Sends the first request twice and keeps the second copy's reply (a
    /// signed reused-serial refusal of that request); sends every later
    /// request once and answers it with that old refusal.
    ReplayOld,
}

/// A proxy in front of `sb` on 127.0.0.1; returns its `/server` URL.
async fn proxy(sb: &RunningSandbox, mode: Proxy) -> String {
    let upstream = sb.endpoint_url();
    let first: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let (addr, _) = spawn_server(move |request: http::Request<Bytes>| {
        let (upstream, first) = (upstream.clone(), first.clone());
        async move {
            let body = request.body().to_vec();
            let kept = first.lock().unwrap().clone();
            let copies = match (mode, &kept) {
                (Proxy::ReplayOld, Some(_)) => 1,
                _ => 2,
            };
            let mut answer = Vec::new();
            for _ in 0..copies {
                answer = post(&upstream, body.clone(), Some(et_proto::CONTENT_TYPE))
                    .await
                    .1;
            }
            if let Proxy::ReplayOld = mode {
                answer = first.lock().unwrap().get_or_insert(answer).clone();
            }
            reply(200, "application/json", answer)
        }
    })
    .await;
    format!("http://{addr}/server")
}

fn client_via(url: &str, dir: &std::path::Path, profile: Profile) -> Client {
    let endpoint = Endpoint::parse(url).expect("endpoint");
    Client::with_config(
        endpoint,
        merchant_speaking(dir, profile),
        TransportConfig::default(),
    )
    .expect("client")
}

fn count(dir: &std::path::Path, table: &str) -> i64 {
    let db = rusqlite::Connection::open(dir.join(et_sandbox::DATABASE)).expect("db");
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

fn gbp() -> et_model::GetRate {
    et_model::GetRate {
        currency_code: et_model::CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    }
}

fn upload(order_id: &str) -> UploadAttachment {
    UploadAttachment {
        order_id: order_id.into(),
        attachment_type: AttachmentType::OfferLetter,
        base64: "aGk=".into(),
        file_name: "offer.pdf".into(),
        extra: Default::default(),
    }
}

#[tokio::test]
async fn a_duplicated_request_creates_one_order_and_one_attachment_under_every_profile() {
    for profile in [
        Profile::default(),
        SandboxCode::named_in(Profile::default()),
    ] {
        let dir = state_dir();
        let sb = start(dir.path(), 1.0).await;
        let direct = client_via(&sb.endpoint_url(), dir.path(), profile.clone());
        let created = direct
            .create_order(&order("dup-1", "100.00"))
            .await
            .expect("order");
        let order_id = created.items[0].order_id.clone();
        let via = client_via(&proxy(&sb, Proxy::Duplicate).await, dir.path(), profile);
        // The second copy of each is refused as a reused serial number; the
        // client must not take that for "nothing happened".
        let upload = via.upload_attachment(&upload(&order_id)).await;
        assert!(upload.is_err(), "the proxy answered with the refusal");
        assert_eq!(count(dir.path(), "attachments"), 1, "one attachment");
        let again = via.create_order(&order("dup-2", "100.00")).await;
        assert!(again.is_err());
        assert_eq!(count(dir.path(), "orders"), 2, "one order per create");
        sb.shutdown().await;
    }
}

#[tokio::test]
async fn a_replayed_signed_refusal_of_another_request_triggers_nothing() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let profile = SandboxCode::named_in(Profile::default());
    let url = proxy(&sb, Proxy::ReplayOld).await;
    let via = client_via(&url, dir.path(), profile);
    // A rate changes nothing: its copy refused as a reused serial is sent
    // once more; the proxy answers that with the old refusal, which does
    // not echo the new request, so the client stops there.
    let refused = via.get_rate(&gbp()).await.unwrap_err();
    assert_eq!(refused.api_status().map(|c| c.as_str()), Some("100003"));
    assert!(matches!(
        refused,
        et_http::Error::Response(et_proto::Error::Api {
            authenticated: false,
            ..
        })
    ));
    // An upload answered with the old refusal is not sent again.
    let direct = client_via(&sb.endpoint_url(), dir.path(), Profile::default());
    let order_id = direct
        .create_order(&order("replay-1", "100.00"))
        .await
        .expect("order")
        .items[0]
        .order_id
        .clone();
    let e = via.upload_attachment(&upload(&order_id)).await.unwrap_err();
    assert!(matches!(
        e,
        et_http::Error::Response(et_proto::Error::Api {
            authenticated: false,
            ..
        })
    ));
    assert_eq!(
        count(dir.path(), "attachments"),
        1,
        "sent once, stored once"
    );
    sb.shutdown().await;
}
