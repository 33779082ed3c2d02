//! Every amount the sandbox reads from outside, on every path (a jump's
//! `tuition`, the amount the student types on the jump page, an order's
//! `tuituon`, an estimate's `amount`, a refund's `refund_amount`), follows
//! one rule, the one a merchant's typed request is held to: plain decimal
//! digits, at most its currency's decimal places, more than 0 and at most
//! `MAX_AMOUNT`. Sent untyped, past the merchant's own check.

use crate::common;
use common::started;

use common::{call, post, refused};
use et_model::{CreateOrder, EstimateAmount, JumpPlaceOrder, Operation, OrderCreated, Payload};
use et_proto::{Merchant, RequestOptions, CONTENT_TYPE};
use et_sandbox::{RunningSandbox, SandboxCode};
use std::time::SystemTime;

/// `sensitive` (and `data`) sent untyped as `Op`; ET's refusal message.
async fn refused_untyped<Op: Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    data: &str,
    sensitive: &str,
) -> String {
    let req = m
        .build_untyped(
            Op::SERVER_TYPE,
            data,
            sensitive,
            &RequestOptions::default(),
            SystemTime::now(),
        )
        .expect("builds");
    let (_, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    refused(
        m.open::<Op>(&req, &body, SystemTime::now())
            .map(|r| r.items),
        SandboxCode::InvalidPayload,
    )
}

/// What is refused everywhere: negative, zero, above the maximum, an
/// exponent (`1e-27` would be 0.00 RMB, `1e2` was echoed as written),
/// below a cent.
const REFUSED: [&str; 7] = [
    "-5.00",
    "0",
    "99999999999999",
    "1e-27",
    "1e2",
    "0.001",
    "10000000000.01",
];

#[tokio::test]
async fn a_jump_order_or_estimate_with_an_amount_out_of_rule_is_refused() {
    let (_dir, sb, m) = started(1.0).await;
    for (i, amount) in REFUSED.iter().enumerate() {
        let jump = format!(
            r#"{{"merchant_order_id":"M-AMT-J{i}","merchant_user_key":"u","tuition":{amount}}}"#
        );
        let message = refused_untyped::<JumpPlaceOrder>(&sb, &m, "{}", &jump).await;
        assert!(message.contains("`tuition`"), "jump {amount}: {message}");
        let order = format!(
            r#"{{"merchant_order_id":"M-AMT-O{i}","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","tuituon":{amount}}}"#
        );
        let message = refused_untyped::<CreateOrder>(&sb, &m, "{}", &order).await;
        assert!(message.contains("`tuituon`"), "order {amount}: {message}");
        let estimate = format!(r#"{{"currency_code":"GBP","amount":{amount}}}"#);
        let message = refused_untyped::<EstimateAmount>(&sb, &m, &estimate, "{}").await;
        assert!(message.contains("`amount`"), "estimate {amount}: {message}");
    }
    // Decimal places are the order currency's: none for yen.
    let yen = r#"{"merchant_order_id":"M-AMT-Y","merchant_user_key":"u","country_code":"JPN","currency_code":"JPY","tuituon":1000.5}"#;
    let message = refused_untyped::<CreateOrder>(&sb, &m, "{}", yen).await;
    assert!(message.contains("at most 0 decimal places"), "{message}");
    let yen: CreateOrder = serde_json::from_str(&yen.replace("1000.5", "1000")).expect("an order");
    let created: Vec<OrderCreated> = call(&sb, &m, &yen).await.expect("whole yen are fine");
    assert_eq!(
        created[0].tuition_rmb.as_ref().map(|a| a.as_str()),
        Some("48.00")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_amount_typed_on_the_jump_page_follows_the_same_rule_in_the_currency_chosen() {
    let (_dir, sb, m) = started(1.0).await;
    let jump_url = |tuition: Option<&str>, id: &str| {
        let jump = JumpPlaceOrder {
            tuition: tuition.map(|t| t.parse().expect("amount")),
            ..JumpPlaceOrder::new(id, "student-1")
        };
        assert_eq!(jump.validate(), Ok(()));
        let (sb, m) = (&sb, &m);
        async move {
            call(sb, m, &jump).await.expect("jump")[0]
                .jump_url
                .clone()
                .expect("jump_url")
        }
    };
    let form = |url: String, body: String| async move {
        let (status, page) = post(
            &url,
            body.into_bytes(),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
        (status, String::from_utf8_lossy(&page).into_owned())
    };
    let open = jump_url(None, "M-AMT-P1").await;
    for amount in REFUSED {
        let typed = form_urlencoded::byte_serialize(amount.as_bytes()).collect::<String>();
        let (status, page) = form(
            open.clone(),
            format!("country_code=GBR&currency_code=GBP&tuition={typed}"),
        )
        .await;
        assert_eq!(status, 422, "{amount}: {page}");
        assert!(page.contains("tuit"), "{amount}: {page}");
    }
    // The merchant's 100.50, fine in cents, is not a yen amount.
    let cents = jump_url(Some("100.50"), "M-AMT-P2").await;
    let (status, page) = form(cents.clone(), "country_code=JPN&currency_code=JPY".into()).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("at most 0 decimal places"), "{page}");
    let (status, _) = form(cents, "country_code=GBR&currency_code=GBP".into()).await;
    assert_eq!(status, 303, "placed in pounds");
    let (status, _) = form(
        open,
        "country_code=GBR&currency_code=GBP&tuition=12.5".into(),
    )
    .await;
    assert_eq!(status, 303, "placed");
    sb.shutdown().await;
}
