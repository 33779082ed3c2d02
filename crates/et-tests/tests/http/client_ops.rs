//! Every operation end to end over real HTTP on 127.0.0.1 against an ET
//! side built from et-proto's `EtSide`.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;

use et_http::{Client, Error};
use et_model::{
    ApplyRefund, CreateOrder, EstimateAmount, GetPayUrl, GetRate, Operation, QueryOrders,
    ReplyCode, ServerType, UploadAttachment,
};
use et_proto::{EtSide, Response};
use serde_json::json;

use common::{parties, reply, spawn_server, Seen};

/// An ET server that checks the request is `expect` sent as
/// `application/json; charset=utf-8`, and answers `output` (or `error`).
async fn et_server<Op>(
    et: Arc<EtSide>,
    merchant_public: et_crypto::PublicKey,
    expect: Op,
    answer: Result<Op::Output, ReplyCode>,
) -> (SocketAddr, Seen)
where
    Op: Operation + Send + Sync + 'static,
    Op::Output: Send + Sync + 'static,
{
    spawn_server(move |request: http::Request<bytes::Bytes>| {
        let (et, key, expect, answer) = (
            et.clone(),
            merchant_public.clone(),
            expect.clone(),
            answer.clone(),
        );
        async move {
            let content_type = request
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok());
            if content_type != Some("application/json; charset=utf-8") {
                return reply(415, "text/plain", "wrong content type");
            }
            let opened = match et.open_request(
                request.body(),
                |_, _| Some(key.clone()),
                std::time::SystemTime::now(),
            ) {
                Ok(opened) => opened,
                Err(e) => return reply(400, "text/plain", e.to_string()),
            };
            if opened.operation::<Op>().ok() != Some(expect) {
                return reply(400, "text/plain", "unexpected operation");
            }
            let response = match answer {
                Ok(output) => Response::success(&opened)
                    .with_output::<Op>(&[output])
                    .unwrap(),
                Err(code) => Response::new(
                    code,
                    "order is not awaiting payment",
                    opened.return_info.clone(),
                ),
            };
            reply(
                200,
                "application/json;charset=utf-8",
                et.respond(&key, &response).unwrap(),
            )
        }
    })
    .await
}

/// A client for `addr` and the server, for `op` answered with `output`.
async fn setup<Op>(op: &Op, answer: Result<Op::Output, ReplyCode>) -> (Client, Seen)
where
    Op: Operation + Send + Sync + 'static,
    Op::Output: Send + Sync + 'static,
{
    let (et, merchant) = parties();
    let merchant_public = merchant.credentials().merchant_key.public_key().clone();
    let (addr, seen) = et_server(et, merchant_public, op.clone(), answer).await;
    (common::client_once(addr, merchant), seen)
}

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn pay_config() -> serde_json::Value {
    json!([{"pay_url": "https://pay.example/1", "pay_type": 1, "appid": "wx1", "original_id": "gh_1"}])
}

#[tokio::test]
async fn create_order() {
    let op: CreateOrder = parse(json!({
        "merchant_order_id": "M-1", "merchant_user_key": "u-1", "country_code": "GB",
        "currency_code": "GBP", "tuituon": "10000.00"
    }));
    let out: <CreateOrder as Operation>::Output = parse(json!({
        "order_id": "ET001", "pay_config_list": pay_config(), "tuition_rmb": 91234.50, "counter_fee": "12.00"
    }));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    assert_eq!(client.create_order(&op).await.unwrap().items, vec![out]);
}

#[tokio::test]
async fn upload_attachment() {
    let op: UploadAttachment = parse(json!({
        "order_id": "ET001", "attachment_type": 1, "base64": "aGVsbG8=", "file_name": "offer.pdf"
    }));
    let out = parse(json!({"order_id": "ET001"}));
    let (client, _) = setup(&op, Ok(out)).await;
    let reply = client.upload_attachment(&op).await.unwrap();
    assert_eq!(reply.items[0].order_id.as_deref(), Some("ET001"));
}

#[tokio::test]
async fn get_pay_url() {
    let op: GetPayUrl =
        parse(json!({"order_id": "ET001", "notify_url": "https://m.example/notify"}));
    let out: <GetPayUrl as Operation>::Output =
        parse(json!({"order_id": "ET001", "pay_config_list": pay_config()}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    assert_eq!(client.get_pay_url(&op).await.unwrap().items, vec![out]);
}

#[tokio::test]
async fn query_orders() {
    let op: QueryOrders = parse(json!({"order_id_list": ["ET001"]}));
    let out: <QueryOrders as Operation>::Output =
        parse(json!({"order_id": "ET001", "order_status": "1", "tuition_rmb": "100.00"}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    let reply = client.query_orders(&op).await.unwrap();
    assert_eq!(reply.items, vec![out]);
    assert_eq!(reply.items[0].order_status, et_model::OrderStatus::Paid);
}

#[tokio::test]
async fn get_rate() {
    let op: GetRate = parse(json!({"currency_code": "GBP"}));
    let out: <GetRate as Operation>::Output =
        parse(json!({"currency_code": "GBP", "rate": "9.1234"}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    let reply = client.get_rate(&op).await.unwrap();
    assert_eq!(reply.items, vec![out]);
    assert_eq!(reply.items[0].rate.to_string(), "9.1234");
}

#[tokio::test]
async fn estimate_amount() {
    let op: EstimateAmount = parse(json!({"currency_code": "GBP", "amount": "100.00"}));
    let out: <EstimateAmount as Operation>::Output =
        parse(json!({"tuition_rmb": "912.34", "counter_fee": "0.00"}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    assert_eq!(client.estimate_amount(&op).await.unwrap().items, vec![out]);
}

#[tokio::test]
async fn apply_refund() {
    let op: ApplyRefund = parse(json!({"order_id": "ET001", "refund_order_id": "R-1"}));
    let out: <ApplyRefund as Operation>::Output =
        parse(json!({"order_id": "ET001", "refund_order_id": "R-1"}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    assert_eq!(client.apply_refund(&op).await.unwrap().items, vec![out]);
}

#[tokio::test]
async fn generic_call_reuses_one_keep_alive_connection() {
    let op: GetRate = parse(json!({"currency_code": "USD"}));
    let out: <GetRate as Operation>::Output = parse(json!({"currency_code": "USD", "rate": "7.1"}));
    let (client, seen) = setup(&op, Ok(out.clone())).await;
    for _ in 0..3 {
        assert_eq!(client.call(&op).await.unwrap().items, vec![out.clone()]);
    }
    assert_eq!((seen.requests(), seen.connections()), (3, 1));
}

#[tokio::test]
async fn raw_call_sends_json_text_and_returns_the_answer_untyped() {
    let op: GetRate = parse(json!({"currency_code": "GBP"}));
    let out: <GetRate as Operation>::Output =
        parse(json!({"currency_code": "GBP", "rate": 9.12340}));
    let (client, seen) = setup(&op, Ok(out)).await;
    let options = et_proto::RequestOptions::default();
    let raw = client
        .call_untyped(
            ServerType::GetRate,
            r#"{"currency_code":"GBP"}"#,
            "{}",
            &options,
        )
        .await
        .unwrap();
    assert_eq!(raw.reply.status_code, ReplyCode::Success);
    let item: serde_json::Value = raw.reply.items[0].parse().unwrap();
    assert_eq!(item["currency_code"], "GBP");
    let err = client
        .call_untyped(ServerType::GetRate, "{not json", "{}", &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Request(_)), "{err}");
    assert_eq!(seen.requests(), 1, "the invalid request was never sent");
}

#[tokio::test]
async fn et_error_status_is_a_typed_response_error() {
    let op: GetPayUrl = parse(json!({"order_id": "ET001"}));
    let (client, _) = setup(&op, Err(ReplyCode::OrderNotAwaitingPayment)).await;
    let err = client.get_pay_url(&op).await.unwrap_err();
    assert_eq!(err.api_status(), Some(&ReplyCode::OrderNotAwaitingPayment));
    assert!(matches!(
        err,
        Error::Response(et_proto::Error::Api {
            authenticated: true,
            ..
        })
    ));
    assert!(err.may_have_reached_et());
}

#[tokio::test]
async fn invalid_payload_is_never_sent() {
    let op: ApplyRefund = parse(json!({"order_id": "ET001", "refund_order_id": "R-1"}));
    let (client, seen) = setup(&op, Err(ReplyCode::Success)).await;
    let bad: ApplyRefund = parse(json!({"order_id": "", "refund_order_id": "R-1"}));
    let err = client.apply_refund(&bad).await.unwrap_err();
    assert!(
        matches!(err, Error::Request(et_proto::Error::Validation(ref e)) if e.field == "order_id"),
        "{err}"
    );
    // The chain reaches et-model's typed rule, two layers down.
    let rule = std::error::Error::source(&err)
        .and_then(std::error::Error::source)
        .and_then(|cause| cause.downcast_ref::<et_model::ValidationError>());
    assert_eq!(rule.map(|r| r.rule), Some(et_model::Rule::Required));
    assert!(!err.may_have_reached_et());
    assert_eq!(seen.requests(), 0);
}

#[tokio::test]
async fn get_institutions() {
    let op: et_model::GetInstitutions =
        parse(json!({"search_key": "", "count": 0, "institution_type": 1}));
    let out: et_model::Institution = parse(json!({
        "institution_code": "GBR-OXFORD", "institution_name_en": "University of Oxford",
        "institution_name_ch": "牛津大学", "country_code": "GBR", "institution_type": 1
    }));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    let reply = client.get_institutions(&op).await.unwrap();
    assert_eq!(reply.items, vec![out]);
    assert_eq!(reply.items[0].institution_code.as_str(), "GBR-OXFORD");
}

#[tokio::test]
async fn jump_place_order() {
    let op: et_model::JumpPlaceOrder = parse(json!({
        "merchant_order_id": "M-2", "merchant_user_key": "u-2", "tuition": "9000.00",
        "status_change_notify_url": "https://m.example/status"
    }));
    let out: et_model::JumpAddress = parse(json!({"jump_url": "https://et.example/jump/1"}));
    let (client, _) = setup(&op, Ok(out.clone())).await;
    let reply = client.jump_place_order(&op).await.unwrap();
    assert_eq!(reply.items, vec![out]);
}
