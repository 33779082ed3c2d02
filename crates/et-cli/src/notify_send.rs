//! `et notify send`: a notification as ET would post it, to a receiver
//! written in any language, and its answer checked against what ET expects.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use et_http::{Endpoint, HttpReply, RawClient, TransportConfig, TransportError};
use et_model::{
    Amount, BeijingTime, Decimal, Notification, NotifyType, OrderStatus, OrderStatusChange,
    PayResult, PaymentSuccess, RefundResult, RefundResultNotice, RemittanceVoucher,
};
use et_proto::{
    refund_acknowledgement, sign_notification_by, EtSide, Message, NotificationVerifier,
    NotifySignRule, UntypedObject, UntypedValue, ValueKind, ACK_OK,
};
use http::{HeaderValue, StatusCode};

use crate::cli::{NotifyKindArg, NotifySendArgs};
use crate::error::{CliResult, Failure};
use crate::notify::{json_to_form, salt};
use crate::profile::ProfileOptions;

/// The most read of a receiver's answer: an acknowledgement is a few dozen bytes.
const MAX_ANSWER: usize = 64 << 10;

/// How much of a wrong answer its message quotes.
const QUOTED_CHARS: usize = 200;

/// ET's own example amount, `10000.00` (spec 04 §3.1).
fn default_amount() -> Amount {
    Amount::from_decimal(Decimal::new(1_000_000, 2))
}

/// The voucher URL of ET's remittance-voucher example (spec 04 §4.5).
const DEFAULT_VOUCHER_URL: &str = "https://static.et.cn/xxx/xxx/xxx.pdf";

/// `et notify send`: sign, post, print what was sent and the answer; exit 0
/// when the answer is the acknowledgement ET expects, 4 (with what was
/// wrong) when it is not, 2 when the receiver could not be reached.
pub(crate) async fn send(args: &NotifySendArgs) -> CliResult {
    let salt = salt(&args.salt)?;
    let rule = args.profile.to_profile()?.notify_sign_rule;
    let fields = fields(args, &salt)?;
    let order_id = fields.text("order_id").unwrap_or_default().to_owned();
    let signed = sign_notification_by(&salt, rule, fields);
    let (content_type, body) = if args.form {
        ("application/x-www-form-urlencoded", json_to_form(&signed)?)
    } else {
        (
            "application/json; charset=utf-8",
            String::from_utf8_lossy(&signed).into_owned(),
        )
    };
    let endpoint = Endpoint::parse(&args.url).map_err(|e| Failure::usage(e).context("URL"))?;
    let config = TransportConfig {
        request_timeout: Duration::from_secs(args.timeout),
        max_response_bytes: MAX_ANSWER,
        ..TransportConfig::default()
    };
    let client = RawClient::new(endpoint, config).map_err(Failure::usage)?;
    crate::output::line(format_args!("sent: {body}"))?;
    let answer = client
        .post(HeaderValue::from_static(content_type), Bytes::from(body))
        .await
        .map_err(unanswered)?;
    crate::output::line(format_args!(
        "answer: HTTP {} {}",
        answer.status.as_u16(),
        String::from_utf8_lossy(&answer.body)
    ))?;
    let expected = Expected {
        kind: args.kind,
        order_id: &order_id,
        salt: &salt,
        rule,
    };
    expected
        .check(&answer)
        .map_err(|wrong| Failure::unacknowledged(Box::new(wrong)))
}

/// A failure before any answer: nothing reached the receiver (exit 2), or
/// it did not answer completely within the bounds (exit 4).
fn unanswered(e: TransportError) -> Failure {
    if e.may_have_reached_et() {
        Failure::unacknowledged(e).context("no acknowledgement")
    } else {
        Failure::usage(e).context("the receiver could not be reached")
    }
}

/// The fields to send: the kind's typed defaults, as ET's side writes them
/// ([`EtSide::signed_notification`]: amounts and results as numbers, the
/// order status as a string), then each `--set` in turn. Unsigned: the
/// `sign` is made by the profile's rule.
fn fields(args: &NotifySendArgs, salt: &str) -> CliResult<UntypedObject> {
    let serialised = EtSide::signed_notification(&defaults(args), salt).map_err(Failure::usage)?;
    let mut fields =
        UntypedObject::parse_json(&serialised, Message::Notification).map_err(Failure::usage)?;
    for (field, value) in &args.set {
        let number = fields
            .get(field)
            .is_some_and(|old| old.kind() == ValueKind::Number);
        let value = UntypedValue::from_json(value)
            .ok()
            .filter(|parsed| number && parsed.kind() == ValueKind::Number)
            .unwrap_or_else(|| UntypedValue::string(value));
        fields.insert(field, value);
    }
    Ok(fields)
}

/// The typed notification of `--kind` for `--order`, every documented
/// field filled.
fn defaults(args: &NotifySendArgs) -> Notification {
    let order_id = args.order_id.clone();
    let now = BeijingTime::now().to_string();
    let extend_info = Some(String::new());
    match args.kind {
        NotifyKindArg::Payment => Notification::PaymentSuccess(PaymentSuccess {
            order_id,
            pay_result: PayResult::Succeeded,
            pay_amount: default_amount(),
            pay_currency_code: None,
            pay_datetime: now,
            extend_info,
            notify_type: None,
            extra: Default::default(),
        }),
        NotifyKindArg::Status => Notification::OrderStatusChange(OrderStatusChange {
            notify_type: NotifyType::OrderStatusChange,
            order_id,
            datetime: now,
            order_status: OrderStatus::Paid,
            extend_info,
            extra: Default::default(),
        }),
        NotifyKindArg::Refund => Notification::RefundResult(RefundResultNotice {
            refund_order_id: order_id.clone(),
            order_id,
            refund_result: RefundResult::Succeeded,
            refund_amount: default_amount(),
            refund_datetime: now,
            extend_info,
            extra: Default::default(),
        }),
        NotifyKindArg::Voucher => Notification::RemittanceVoucher(RemittanceVoucher {
            order_id,
            remittance_voucher_url: DEFAULT_VOUCHER_URL.to_owned(),
            extend_info,
            extra: Default::default(),
        }),
    }
}

/// What ET expects in answer to the notification sent (spec 04 §2.1, §4.4).
struct Expected<'a> {
    kind: NotifyKindArg,
    /// The `order_id` sent.
    order_id: &'a str,
    salt: &'a str,
    rule: NotifySignRule,
}

impl Expected<'_> {
    /// The acknowledgement body: `{"notify_result":"OK"}`, or for a refund
    /// result the signed reply et-proto's receiver answers.
    fn body(&self) -> Vec<u8> {
        match self.kind {
            NotifyKindArg::Refund => refund_acknowledgement(self.salt, self.order_id),
            _ => ACK_OK.to_vec(),
        }
    }

    /// Whether `answer` acknowledges: HTTP 200 and a JSON object whose
    /// `notify_result` is `OK`; for a refund result also this `order_id`
    /// and a `sign` that verifies with the salt (other fields allowed).
    fn check(&self, answer: &HttpReply) -> Result<(), WrongAcknowledgement> {
        let wrong = |problem| WrongAcknowledgement {
            status: answer.status,
            answered: quote(&answer.body),
            expected: String::from_utf8_lossy(&self.body()).into_owned(),
            problem,
        };
        if answer.status != StatusCode::OK {
            return Err(wrong(Problem::Status));
        }
        let reply = UntypedObject::parse_json(&answer.body, Message::Notification)
            .map_err(|_| wrong(Problem::NotJsonObject))?;
        let ok = reply
            .get("notify_result")
            .is_some_and(|r| r.kind() == ValueKind::String && r.text() == "OK");
        if !ok {
            return Err(wrong(Problem::NotOk));
        }
        if self.kind != NotifyKindArg::Refund {
            return Ok(());
        }
        let missing: Vec<&'static str> = ["order_id", et_proto::SIGN_KEY]
            .into_iter()
            .filter(|key| reply.get(key).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(wrong(Problem::Lacks(missing)));
        }
        if reply.text("order_id") != Some(self.order_id) {
            return Err(wrong(Problem::OtherOrderId));
        }
        NotificationVerifier::new(self.salt, self.rule)
            .verify(
                Some("application/json"),
                &answer.body,
                std::time::SystemTime::now(),
            )
            .map(drop)
            .map_err(|e| wrong(Problem::Sign(e)))
    }
}

/// The start of `body` as text, for a message.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A receiver's answer that is not the acknowledgement ET expects.
#[derive(Debug)]
pub(crate) struct WrongAcknowledgement {
    status: StatusCode,
    /// The start of the answer's body.
    answered: String,
    /// The body ET expects.
    expected: String,
    problem: Problem,
}

/// What is wrong with an answer.
#[derive(Debug)]
enum Problem {
    /// Not HTTP 200.
    Status,
    /// Not a JSON object.
    NotJsonObject,
    /// No `notify_result` of `"OK"`.
    NotOk,
    /// A refund reply without these fields.
    Lacks(Vec<&'static str>),
    /// A refund reply for another order.
    OtherOrderId,
    /// A refund reply whose `sign` does not verify (the verifier's reason).
    Sign(et_proto::Error),
}

impl fmt::Display for WrongAcknowledgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (answered, expected) = (&self.answered, &self.expected);
        match &self.problem {
            Problem::Status => {
                let status = self.status.as_u16();
                return write!(
                    f,
                    "your receiver answered HTTP {status} `{answered}`; ET expects HTTP 200 and `{expected}`"
                );
            }
            Problem::NotJsonObject | Problem::NotOk => {
                write!(f, "your receiver answered `{answered}`")?;
            }
            Problem::Lacks(fields) => write!(
                f,
                "your receiver answered `{answered}`, without {}",
                fields.join(" and ")
            )?,
            Problem::OtherOrderId => write!(
                f,
                "your receiver answered `{answered}`, whose order_id is not the notification's"
            )?,
            Problem::Sign(_) => write!(
                f,
                "your receiver answered `{answered}`, whose sign does not verify with the salt"
            )?,
        }
        write!(f, "; ET expects `{expected}`")
    }
}

impl std::error::Error for WrongAcknowledgement {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Sign(e) => Some(e),
            _ => None,
        }
    }
}
