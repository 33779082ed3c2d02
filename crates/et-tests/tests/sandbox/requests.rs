//! The sandbox checks requests like ET: every refusal is a response signed
//! by ET, verified here with et-proto's merchant side.

use crate::common;
use common::started;

use common::{
    call, demo_merchant, merchant_speaking, merchant_with, post, refused, send_built, start,
    state_dir,
};
use et_model::{
    Amount, AttachmentType, CreateOrder, CurrencyCode, GetPayUrl, GetRate, Operation, QueryOrders,
    UploadAttachment,
};
use et_proto::{Merchant, Profile, CONTENT_TYPE};
use et_sandbox::{RunningSandbox, SandboxCode};
use et_testkit::{key, Who};
use std::time::SystemTime;

fn order(id: &str) -> CreateOrder {
    et_testkit::order(id, "1000.00")
}

async fn create(sb: &RunningSandbox, m: &Merchant, id: &str) -> String {
    let created = call(sb, m, &order(id)).await.expect("order created");
    assert_eq!(created.len(), 1);
    created[0].order_id.clone()
}

#[tokio::test]
async fn operations_succeed_and_results_are_right() {
    let (dir, sb, m) = started(1.0).await;
    let created = call(&sb, &m, &order("M-1")).await.expect("created");
    let o = &created[0];
    assert!(
        o.order_id.starts_with("ET") && o.order_id.len() == 19,
        "{}",
        o.order_id
    );
    assert_eq!(o.tuition_rmb.as_ref().map(Amount::as_str), Some("9200.00"));
    assert_eq!(o.counter_fee.as_ref().map(Amount::as_str), Some("50.00"));
    assert_eq!(o.pay_config_list[0].pay_url, sb.pay_url(&o.order_id));

    let rate = call(
        &sb,
        &m,
        &GetRate {
            currency_code: CurrencyCode::new("USD"),
            pay_currency_code: None,
            extra: Default::default(),
        },
    )
    .await
    .expect("rate");
    assert_eq!(rate[0].rate.as_str(), "7.2000");

    let info = call(
        &sb,
        &m,
        &QueryOrders::new([o.order_id.as_str(), "ET-unknown"]),
    )
    .await
    .expect("query");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].order_status, et_model::OrderStatus::AwaitingPayment);

    let estimate = call(
        &sb,
        &m,
        &et_model::EstimateAmount {
            currency_code: CurrencyCode::new("GBP"),
            amount: Amount::new("100.00").expect("amount"),
            price_mode: None,
            extra: Default::default(),
        },
    )
    .await
    .expect("estimate");
    let total = estimate[0].total_rmb.as_ref().map(Amount::as_str);
    assert_eq!(
        (estimate[0].tuition_rmb.as_str(), total),
        ("920.00", Some("970.00"))
    );

    // The older pages' name of the order interface is accepted too.
    let older = merchant_speaking(
        dir.path(),
        Profile::default()
            .with_server_type::<CreateOrder>(et_model::ServerType::AddSpecialRentOrder),
    );
    let req = older
        .build(&order("M-1b"), SystemTime::now())
        .expect("builds");
    assert!(String::from_utf8_lossy(&req.body).contains("add_special_rent_order"));
    let created = send_built::<CreateOrder>(&sb, &older, &req)
        .await
        .expect("created");
    assert_ne!(created[0].order_id, o.order_id);
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_a_reused_serial_number() {
    let (_dir, sb, m) = started(1.0).await;
    let rate = GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    let req = m.build(&rate, SystemTime::now()).expect("builds");
    send_built::<GetRate>(&sb, &m, &req)
        .await
        .expect("first use accepted");
    let message = refused(
        send_built::<GetRate>(&sb, &m, &req).await,
        SandboxCode::DuplicateSerialNumber,
    );
    assert!(message.contains(&req.serial_number), "{message}");
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_a_bad_signature_and_a_wrong_key() {
    let (dir, sb, m) = started(1.0).await;

    // A field changed after signing.
    let mut req = m
        .build(&GetPayUrl::new("ET20240101000000001"), SystemTime::now())
        .expect("builds");
    let text = String::from_utf8(req.body.clone()).expect("utf-8");
    req.body = text
        .replace("\"version\":\"2.0.0\"", "\"version\":\"2.0.1\"")
        .into_bytes();
    refused(
        send_built::<GetPayUrl>(&sb, &m, &req).await,
        SandboxCode::BadSignature,
    );

    // Signed with a key that is not the merchant's.
    let et_public = key(Who::Et, 1024).public_key();
    let wrong = merchant_with(dir.path(), key(Who::Stranger, 1024), et_public);
    refused(
        call(&sb, &wrong, &GetPayUrl::new("ET1")).await,
        SandboxCode::BadSignature,
    );

    // aeskey encrypted to a key that is not ET's: the signature verifies, decryption fails.
    let wrong_et = key(Who::Stranger, 1024).public_key();
    let wrong_et_side = merchant_with(dir.path(), key(Who::Merchant, 1024), wrong_et);
    let req = wrong_et_side
        .build(&order("M-2"), SystemTime::now())
        .expect("builds");
    let (_, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    refused(
        m.open::<CreateOrder>(&req, &body, SystemTime::now()),
        SandboxCode::DecryptionFailed,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_malformed_envelopes_and_unknown_merchants_with_signed_responses() {
    let (_dir, sb, m) = started(1.0).await;
    let (status, reply) = post(
        &sb.endpoint_url(),
        b"{\"serial_number\":\"1\"}".to_vec(),
        Some(CONTENT_TYPE),
    )
    .await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&reply).into_owned();
    assert!(
        text.contains("\"aeskey\":\"\"") && text.contains("\"sensitive_data\":\"\""),
        "{text}"
    );
    refused(
        m.open_untyped(None, &reply, SystemTime::now()),
        SandboxCode::MalformedBody,
    );
    let mut stranger = m
        .build(&GetPayUrl::new("ET1"), SystemTime::now())
        .expect("builds");
    stranger.body = String::from_utf8(stranger.body)
        .expect("utf-8")
        .replace("ET82009S001", "ET99999S001")
        .into_bytes();
    refused(
        send_built::<GetPayUrl>(&sb, &m, &stranger).await,
        SandboxCode::UnknownMerchant,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn garbage_that_is_not_an_envelope_is_refused_unsigned_without_rsa() {
    let (_dir, sb, m) = started(1.0).await;
    for body in [&b"not json"[..], b"", b"[1,2]", b"\"text\"", b"{\"a\":1"] {
        let (status, reply) = post(&sb.endpoint_url(), body.to_vec(), Some(CONTENT_TYPE)).await;
        assert_eq!(status, 200);
        let text = String::from_utf8_lossy(&reply).into_owned();
        assert!(!text.contains("\"sign\""), "no signature: {text}");
        match m.open_untyped(None, &reply, SystemTime::now()) {
            Err(et_proto::Error::Api {
                code,
                authenticated: false,
                message,
            }) => {
                assert_eq!(code.as_str(), SandboxCode::MalformedBody.as_str());
                assert!(!message.is_empty());
            }
            other => panic!("expected an unauthenticated 100001, got {other:?}"),
        }
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_a_second_order_with_the_same_merchant_order_id() {
    let (_dir, sb, m) = started(1.0).await;
    let first = create(&sb, &m, "M-6").await;
    // A retry of the same create: a new serial number, the same merchant_order_id.
    let message = refused(
        call(&sb, &m, &order("M-6")).await,
        SandboxCode::DuplicateMerchantOrderId,
    );
    assert!(
        message.contains("\"M-6\"") && message.contains(&first),
        "names the id and the existing order: {message}"
    );
    assert_eq!(SandboxCode::DuplicateMerchantOrderId.as_str(), "200002");
    let next = create(&sb, &m, "M-7").await;
    assert_ne!(next, first, "another merchant_order_id is a new order");
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_a_payment_address_for_a_paid_order() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, "M-3").await;
    let urls = call(&sb, &m, &GetPayUrl::new(&id))
        .await
        .expect("unpaid order has a pay URL");
    assert_eq!(urls[0].pay_config_list[0].pay_url, sb.pay_url(&id));
    sb.pay(&id).expect("pays");
    let message = refused(
        call(&sb, &m, &GetPayUrl::new(&id)).await,
        SandboxCode::OrderNotAwaitingPayment,
    );
    assert!(message.contains("not awaiting payment"), "{message}");
    refused(
        call(&sb, &m, &GetPayUrl::new("ET20990101999999999")).await,
        SandboxCode::OrderNotFound,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_a_sixth_attachment_of_one_type() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, "M-4").await;
    let upload = |kind| UploadAttachment {
        order_id: id.clone(),
        attachment_type: kind,
        base64: "JVBERi0xLjQK".into(),
        file_name: "offer.pdf".into(),
        extra: Default::default(),
    };
    for _ in 0..5 {
        call(&sb, &m, &upload(AttachmentType::OfferLetter))
            .await
            .expect("within the limit");
    }
    let message = refused(
        call(&sb, &m, &upload(AttachmentType::OfferLetter)).await,
        SandboxCode::AttachmentLimit,
    );
    assert!(message.contains("at most 5"), "{message}");
    call(&sb, &m, &upload(AttachmentType::Contract))
        .await
        .expect("another type is counted apart");
    let mut bad = upload(AttachmentType::Invoice);
    bad.base64 = "not base64!".into();
    refused(call(&sb, &m, &bad).await, SandboxCode::InvalidPayload);
    // Attachments of megabytes take the large-request path, and their
    // Base64 is checked block by block: a bad character deep inside is
    // found, a good one stored whole.
    let large = "JVBERi0x".repeat(512 * 1024);
    let mut deep = upload(AttachmentType::Invoice);
    deep.base64 = format!("{large}*{large}");
    refused(call(&sb, &m, &deep).await, SandboxCode::InvalidPayload);
    let mut whole = upload(AttachmentType::Invoice);
    whole.base64 = large.clone();
    call(&sb, &m, &whole).await.expect("a 4 MiB attachment");
    let (status, file) = common::get(&format!("http://{}/attachments/7", sb.addr())).await;
    assert_eq!(status, 200);
    assert_eq!(file.len(), large.len() / 4 * 3, "stored whole");
    sb.shutdown().await;
}

/// Any JSON as the `data` of `get_special_pay_url`: lets a test send a
/// payload the typed request (which validates) would never build.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct RawPayUrl(serde_json::Value);

impl et_model::Payload for RawPayUrl {}

impl Operation for RawPayUrl {
    const SERVER_TYPE: et_model::ServerType = et_model::ServerType::GetSpecialPayUrl;
    type Data = RawPayUrl;
    type Sensitive = et_model::NoPayload;
    type Output = et_model::NoPayload;
    const OUTPUT_IN: et_model::Placement = et_model::Placement::Data;
    const EFFECT: et_model::Effect = et_model::Effect::Idempotent;
    fn parts(&self) -> (&RawPayUrl, &et_model::NoPayload) {
        (self, &et_model::NoPayload)
    }
    fn from_parts(data: RawPayUrl, _: et_model::NoPayload) -> Self {
        data
    }
}

#[tokio::test]
async fn refuses_an_invalid_payload_and_an_unknown_server_type() {
    let (dir, sb, m) = started(1.0).await;
    let empty = RawPayUrl(serde_json::json!({ "order_id": "" }));
    let message = refused(call(&sb, &m, &empty).await, SandboxCode::InvalidPayload);
    assert!(
        message.contains("order_id") && message.contains("required"),
        "{message}"
    );
    let broken = et_model::ValidationError::new("order_id", et_model::Rule::Required);
    assert_eq!(message, et_proto::Error::from(broken).to_string());
    let mistyped = RawPayUrl(serde_json::json!({ "order_id": ["ET1"] }));
    let message = refused(call(&sb, &m, &mistyped).await, SandboxCode::InvalidPayload);
    assert!(
        message.contains("`data`") && message.contains("column"),
        "{message}"
    );

    let profile = Profile::default().with_server_type::<et_model::ApplyRefund>(
        et_model::ServerType::Other("no_such_operation".into()),
    );
    let odd = merchant_speaking(dir.path(), profile);
    let message = refused(
        call(&sb, &odd, &et_testkit::refund("ET1", "R1")).await,
        SandboxCode::UnknownServerType,
    );
    assert!(message.contains("no_such_operation"), "{message}");
    sb.shutdown().await;
}

#[tokio::test]
async fn accepts_the_amount_under_either_spelling_magic_amounts_included() {
    use et_proto::{SettingName, TuitionSpelling};
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    for &(name, spelling) in TuitionSpelling::NAMES {
        let profile = Profile {
            tuition_spelling: spelling,
            ..Profile::default()
        };
        let m = merchant_speaking(dir.path(), profile);
        let created = call(&sb, &m, &order(&format!("M-{name}")))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            created[0].tuition_rmb.as_ref().map(Amount::as_str),
            Some("9200.00"),
            "{name}"
        );
        let view = sb.order(&created[0].order_id).expect("db").expect("order");
        assert_eq!(view.amount, "1000.00", "{name}");
        // The magic amount asks for its failure whichever way it is spelled.
        let magic = et_testkit::order(format!("M-magic-{name}"), "4000.01");
        refused(call(&sb, &m, &magic).await, SandboxCode::Internal);
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn accepts_an_et_demo_shaped_request() {
    let (dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, "M-5").await;
    // ET's Python demo: callback_process "", sensitive_data always encrypted
    // (here "[]"), data a JSON string, and no Content-Type header.
    let demo = demo_merchant(dir.path());
    let req = demo
        .build(&GetPayUrl::new(&id), SystemTime::now())
        .expect("builds");
    let text = String::from_utf8(req.body.clone()).expect("utf-8");
    assert!(text.contains("\"callback_process\":\"\""), "{text}");
    assert!(
        text.contains("\"data\":\"{"),
        "data is a JSON string: {text}"
    );
    assert!(
        !text.contains("\"aeskey\":\"\""),
        "sensitive_data is encrypted: {text}"
    );
    let (status, body) = post(&sb.endpoint_url(), req.body.clone(), None).await;
    assert_eq!(status, 200);
    let reply = demo
        .open::<GetPayUrl>(&req, &body, SystemTime::now())
        .expect("accepted and verified");
    assert_eq!(reply.items[0].pay_config_list[0].pay_url, sb.pay_url(&id));
    sb.shutdown().await;
}
