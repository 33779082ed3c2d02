//! The `et.call` span carries server type, serial number, statuses and
//! latency, and nothing of keys, signatures, envelopes or sensitive fields.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use et_model::CreateOrder;
use et_proto::{Message, Response, UntypedObject};
use tracing_subscriber::fmt::format::FmtSpan;

use common::{parties, reply, spawn_server, SALT};

const SECRET: &str = "SECRET-PAYER-7f3a";

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn call_span_has_its_fields_and_no_secret() {
    let (et, merchant) = parties();
    let merchant_public = merchant.credentials().merchant_key.public_key().clone();
    let exchanged = Arc::new(Mutex::new(Vec::<Bytes>::new()));
    let wire = exchanged.clone();
    let (addr, _) = spawn_server(move |request: http::Request<Bytes>| {
        let (et, key, wire) = (et.clone(), merchant_public.clone(), wire.clone());
        async move {
            let opened = common::open(&et, &key, &request);
            let answer = Response::success(&opened)
                .with_data(&[serde_json::json!({"order_id": "ET001", "pay_config_list": []})])
                .unwrap();
            let body = Bytes::from(et.respond(&key, &answer).unwrap());
            wire.lock()
                .unwrap()
                .extend([request.body().clone(), body.clone()]);
            reply(200, "application/json", body)
        }
    })
    .await;
    let client = common::client_once(addr, merchant);
    let order = CreateOrder {
        name_ch: Some(SECRET.to_owned()),
        ..et_testkit::order("M-1", "1.00")
    };

    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let reply = {
        let _guard = tracing::subscriber::set_default(subscriber);
        client.create_order(&order).await.unwrap()
    };
    assert_eq!(reply.items.len(), 1);

    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let wire = exchanged.lock().unwrap();
    let request = UntypedObject::parse_json(&wire[0], Message::Request).unwrap();
    let response = UntypedObject::parse_json(&wire[1], Message::Response).unwrap();
    for expected in [
        "et.call",
        "server_type=\"create_order\"",
        &format!(
            "serial_number=\"{}\"",
            request.text("serial_number").unwrap()
        ),
        "status=200",
        "et_status=\"000000\"",
        "latency_ms=",
    ] {
        assert!(log.contains(expected), "`{expected}` missing from:\n{log}");
    }
    let mut forbidden = vec![SECRET.to_owned(), SALT.to_owned()];
    for envelope in [&request, &response] {
        for field in ["sign", "aeskey", "sensitive_data"] {
            forbidden.extend(envelope.text(field).map(str::to_owned));
        }
    }
    for text in forbidden.iter().filter(|t| t.len() > 4) {
        assert!(
            !log.contains(text.as_str()),
            "logged a secret or envelope part:\n{log}"
        );
    }
}

/// A payment notification of ET1 with `last` as its last field, signed
/// by `rule`.
fn payment(rule: et_proto::NotifySignRule, last: (&str, &str)) -> Vec<u8> {
    use et_proto::UntypedValue;
    et_proto::sign_notification_by(
        SALT,
        rule,
        [
            ("order_id", UntypedValue::string("ET1")),
            ("pay_result", UntypedValue::integer(1)),
            ("pay_amount", UntypedValue::from_json("10.00").unwrap()),
            ("pay_datetime", UntypedValue::string("2024-12-01 10:00:00")),
            (last.0, UntypedValue::string(last.1)),
        ]
        .into_iter()
        .collect(),
    )
}

/// Posts `body` to `receiver` `times` times, capturing what is logged at
/// `info` and above; the answers' statuses and the log.
async fn post_logged<H: et_http::NotificationHandler>(
    receiver: &et_http::WebhookReceiver<H>,
    body: &[u8],
    times: usize,
) -> (Vec<u16>, String) {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let mut statuses = Vec::new();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        for _ in 0..times {
            let request = http::Request::post("/notify")
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(Bytes::from(body.to_vec())))
                .unwrap();
            statuses.push(receiver.respond(request).await.status().as_u16());
        }
    }
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    (statuses, log)
}

#[tokio::test]
async fn a_field_et_added_is_kept_and_its_name_logged_once_at_info() {
    use et_http::WebhookReceiver;
    use et_proto::{NotificationVerifier, NotifySignRule, VerifiedNotification};
    let body = payment(NotifySignRule::V2, ("a_field_for_the_log_test", "x"));
    let kept = Arc::new(Mutex::new(Vec::new()));
    let handled = kept.clone();
    let receiver = WebhookReceiver::new(
        NotificationVerifier::new(SALT, NotifySignRule::V2),
        move |n: VerifiedNotification| {
            let handled = handled.clone();
            async move {
                let added: Vec<String> = n.added_fields().map(|(k, _)| k.to_owned()).collect();
                handled.lock().unwrap().push(added);
                Ok::<(), std::io::Error>(())
            }
        },
    );
    let (statuses, log) = post_logged(&receiver, &body, 3).await;
    assert_eq!(statuses, [200; 3]);
    assert_eq!(
        *kept.lock().unwrap(),
        vec![vec!["a_field_for_the_log_test".to_owned()]; 3]
    );
    assert_eq!(
        log.matches("a_field_for_the_log_test").count(),
        1,
        "logged once:\n{log}"
    );
    assert!(log.contains(" INFO "), "{log}");
}

#[tokio::test]
async fn a_v1_signed_notification_refused_under_v2_names_the_rule_that_verifies_it() {
    use et_http::WebhookReceiver;
    use et_proto::{NotificationVerifier, NotifySignRule, VerifiedNotification};
    let body = payment(NotifySignRule::V1Compat, ("extend_info", ""));
    let receiver = WebhookReceiver::new(
        NotificationVerifier::new(SALT, NotifySignRule::V2),
        |_: VerifiedNotification| async { Ok::<(), std::io::Error>(()) },
    );
    let (statuses, log) = post_logged(&receiver, &body, 1).await;
    assert_eq!(statuses, [401], "refused: the profile says v2");
    assert!(
        log.contains("notify_sign_rule = v1-compat"),
        "the log names the setting:\n{log}"
    );
}

/// During a salt's rollover the receiver accepts the new salt too, and
/// says at `info`, once, that a notification verified with it.
#[tokio::test]
async fn the_first_notification_verified_with_a_new_salt_is_logged_once() {
    use et_http::WebhookReceiver;
    use et_proto::{Accepted, NotificationVerifier, NotifySignRule, VerifiedNotification};
    let new_salt = "the-rolled-over-salt";
    let body = et_proto::sign_notification_by(
        new_salt,
        NotifySignRule::V2,
        UntypedObject::parse_json(
            &payment(NotifySignRule::V2, ("extend_info", "")),
            Message::Notification,
        )
        .unwrap()
        .iter()
        .filter(|(key, _)| *key != "sign")
        .map(|(key, value)| (key, value.clone()))
        .collect(),
    );
    let accepted = Accepted::new("salt-2026", et_crypto::Zeroizing::new(new_salt.to_owned()));
    let by = Arc::new(Mutex::new(Vec::new()));
    let seen = by.clone();
    let receiver = WebhookReceiver::new(
        NotificationVerifier::new(SALT, NotifySignRule::V2).with_accepted_salts([accepted]),
        move |n: VerifiedNotification| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(n.verified_by().to_string());
                Ok::<(), std::io::Error>(())
            }
        },
    );
    let (statuses, log) = post_logged(&receiver, &body, 3).await;
    assert_eq!(statuses, [200; 3]);
    assert_eq!(*by.lock().unwrap(), ["salt-2026"; 3]);
    assert_eq!(
        log.matches("salt=salt-2026").count(),
        1,
        "logged once:\n{log}"
    );
    assert!(
        log.contains("first notification verified with this salt"),
        "{log}"
    );
    assert!(
        !log.contains(new_salt),
        "the salt itself is never logged:\n{log}"
    );
}
