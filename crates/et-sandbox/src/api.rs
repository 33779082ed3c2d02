//! `POST /server`: ET's API. Checks each request as ET would, in order —
//! a JSON envelope, a known merchant, a valid signature, a decryptable
//! `sensitive_data`, an unused serial number, a known `server_type`, a valid
//! payload — and answers with a signed response; refusals carry a
//! [`SandboxCode`] and a message saying what was wrong.

use bytes::Bytes;
use et_crypto::PublicKey;
use et_model::{
    Amount, ApplyRefund, AttachmentUploaded, CreateOrder, Decimal, Estimate, EstimateAmount,
    GetInstitutions, GetPayUrl, GetRate, Institution, Operation, OrderCreated, OrderInfo,
    OrderStatus, PayUrl, QueryOrders, Rate, RefundAccepted, UploadAttachment,
};
use et_proto::{Message, OpenedRequest, Response, UntypedObject, UntypedValue};

use crate::app::App;
use crate::codes::{decimal, invalid, order_not_found};
use crate::codes::{Refusal, SandboxCode};
use crate::engine::RefundApplication;
use crate::faults::{Fault, Plan};
use crate::machine::{self, Event};
use crate::money::amount_due;
use crate::request_log::{self as log, Recorder};
use crate::store::{self, OrderRecord};

/// At most this many attachments per type and order (attachment upload page).
pub const MAX_ATTACHMENTS_PER_TYPE: i64 = 5;
/// The answer to one request: the response body, and the failure the
/// server plays on it ([`crate::faults`]; none for most requests).
pub(crate) struct Answer {
    /// A signed response body, or an unsigned `100001`; empty when the
    /// request was cut short by its fault.
    pub body: Vec<u8>,
    /// The HTTP-level failure to play (latency, status, timeout, reset).
    pub fault: Option<Fault>,
}

/// Handles one request body; returns a signed response body, or an
/// unsigned `100001` for a body that is not an envelope at all, and the
/// fault the plan holds for it. Every body goes to the request log with its
/// answer.
///
/// An attachment makes the body megabytes, and every copy counts against
/// the body budget ([`crate::limits::WORK_FACTOR`]): the envelope read for
/// the log is let go before the envelope is opened, the body once it is
/// opened, and the opened envelope's fields (the sandbox reads its payloads
/// only) at once.
pub(crate) fn handle(app: &App, body: Bytes) -> Answer {
    let mut log = Recorder::start(app);
    // One generation of ET's keys for the whole request (a rotation may
    // swap them meanwhile).
    let keys = app.keys();
    let et = &keys.et;
    let return_info = match UntypedObject::parse_json(&body, Message::Request) {
        Ok(envelope) => {
            log.envelope(&envelope);
            envelope.text("return_info").unwrap_or_default().to_owned()
        }
        Err(e) => {
            log.not_opened(&body, &e.to_string());
            log.answered(app, SandboxCode::MalformedBody.as_str(), &e.to_string());
            return Answer {
                body: not_an_envelope(&e),
                fault: None,
            };
        }
    };
    let mut fault = None;
    let mut merchant_key: Option<PublicKey> = None;
    let opened = et.open_request(
        &body,
        |m, s| {
            let found = app.merchant_key(m, s).cloned();
            merchant_key.clone_from(&found);
            found
        },
        app.clock.system_time(),
    );
    let response = match opened {
        // Failures on demand: one hook before anything is done, one after the commit.
        Ok(mut req) => {
            drop(body);
            req.fields = UntypedObject::new();
            log.opened(&req);
            match Plan::of(app.faults.for_request(&req)) {
                Plan::Cut(Fault::ErrorCode {
                    status_code,
                    message,
                }) => Response::new(status_code, message, req.return_info.as_str()),
                Plan::Cut(cut) => {
                    let played = serde_json::to_string(&cut).unwrap_or_default();
                    log.answered(app, "", &format!("no answer: the fault {played}"));
                    return Answer {
                        body: Vec::new(),
                        fault: Some(cut),
                    };
                }
                Plan::Run(after) => {
                    let handled = dispatch(app, &mut req);
                    fault = after.filter(|_| handled.is_ok());
                    handled.unwrap_or_else(|r| refuse(&r, &req.return_info))
                }
            }
        }
        Err(e) => {
            let refused = Refusal::from(&e);
            log.not_opened(&body, &refused.message);
            refuse(&refused, &return_info)
        }
    };
    if response.status_code.as_str() != SandboxCode::Success.as_str() {
        tracing::info!(status_code = response.status_code.as_str(), message = %response.message, "request refused");
    }
    // A refusal has nothing to encrypt, so a request that names no known
    // merchant still gets a response signed by ET (empty `aeskey`).
    let recipient = merchant_key.unwrap_or_else(|| et.public_key().clone());
    let body = et
        .respond(&recipient, &response)
        .or_else(|e| {
            let failed = Refusal::new(
                SandboxCode::Internal,
                format!("building the response failed: {e}"),
            );
            et.respond(&recipient, &refuse(&failed, &response.return_info))
        })
        .unwrap_or_default();
    log.answered(app, response.status_code.as_str(), &response.message);
    Answer { body, fault }
}

/// The refusal of a body that is not a JSON object: nothing in it can be
/// answered to (no merchant, no `return_info`), so it gets no RSA
/// signature, which would cost milliseconds of CPU per byte of garbage.
fn not_an_envelope(e: &et_proto::Error) -> Vec<u8> {
    tracing::info!(error = %e, "request refused unsigned: not an envelope");
    let mut body = UntypedObject::new();
    body.insert(
        "status_code",
        UntypedValue::string(SandboxCode::MalformedBody.as_str()),
    );
    body.insert("message", UntypedValue::string(e.to_string()));
    body.to_json().into_bytes()
}

fn refuse(r: &Refusal, return_info: &str) -> Response {
    Response::new(r.code.as_str().into(), r.message.clone(), return_info)
}

fn dispatch(app: &App, req: &mut OpenedRequest) -> Result<Response, Refusal> {
    let fresh = app.store.tx(|c| {
        store::record_serial(c, &req.merchant_number, &req.serial_number, app.clock.now())
    })?;
    if !fresh {
        return Err(Refusal::new(
            SandboxCode::DuplicateSerialNumber,
            format!(
                "serial_number {:?} was already used by merchant {}",
                req.serial_number, req.merchant_number
            ),
        ));
    }
    let keys = app.keys();
    let profile = keys.et.profile();
    let server_type = req.server_type.clone();
    let is = |default: &et_model::ServerType| profile.accepts_server_type(default, &server_type);
    // One handler per operation of the list, named after it: a missing one
    // does not compile.
    use crate::jump::place_jump as jump_place_order;
    macro_rules! route {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            $(
                if is(&<et_model::$op as Operation>::SERVER_TYPE) {
                    return run(app, req, $method);
                }
            )*
        };
    }
    et_model::for_each_operation!(route);
    Err(Refusal::new(
        SandboxCode::UnknownServerType,
        format!(
            "server_type {:?} is not an operation of the sandbox",
            req.server_type
        ),
    ))
}

type Handler<Op> = fn(&App, &OpenedRequest, Op) -> Result<Vec<<Op as Operation>::Output>, Refusal>;

/// Parses and validates `Op`, runs the handler, places its results. Once
/// typed, the `data` text is cut to what the log keeps
/// ([`log::MAX_LOGGED_PAYLOAD`]): an attachment's is megabytes.
fn run<Op: Operation>(
    app: &App,
    req: &mut OpenedRequest,
    handler: Handler<Op>,
) -> Result<Response, Refusal> {
    let op: Op = req.operation().map_err(|e| Refusal::from(&e))?;
    log::shed_payload(req);
    op.validate()?;
    let req = &*req;
    let items = handler(app, req, op)?;
    Response::success(req)
        .with_output::<Op>(&items)
        .map_err(|e| {
            Refusal::new(
                SandboxCode::Internal,
                format!("encoding the result failed: {e}"),
            )
        })
}

/// The merchant's own order, or `200001`.
fn owned_order(app: &App, req: &OpenedRequest, order_id: &str) -> Result<OrderRecord, Refusal> {
    app.store
        .tx(|c| store::order(c, order_id))?
        .filter(|o| o.merchant_number == req.merchant_number)
        .ok_or_else(|| order_not_found(order_id))
}

fn create_order(
    app: &App,
    req: &OpenedRequest,
    op: CreateOrder,
) -> Result<Vec<OrderCreated>, Refusal> {
    let created = app.place_order(&req.merchant_number, &req.sub_merchant_number, op)?;
    // Kept for the dashboard's order page (merchant test data, bounded);
    // the order exists either way, so a failure here is only logged.
    let request = log::order_request(req);
    if let Err(e) = app
        .store
        .tx(|c| store::insert_order_request(c, &created.order_id, &request))
    {
        tracing::warn!(order_id = %created.order_id, error = %e, "keeping the creating request failed");
    }
    Ok(vec![created])
}

fn upload_attachment(
    app: &App,
    req: &OpenedRequest,
    op: UploadAttachment,
) -> Result<Vec<AttachmentUploaded>, Refusal> {
    owned_order(app, req, &op.order_id)?;
    if !is_base64(&op.base64) {
        return Err(invalid("base64", "is not standard Base64"));
    }
    let kind = op.attachment_type.code();
    let now = app.clock.now();
    app.store.tx(|c| {
        if store::count_attachments(c, &op.order_id, kind)? >= MAX_ATTACHMENTS_PER_TYPE {
            return Err(Refusal::new(
                SandboxCode::AttachmentLimit,
                format!(
                    "order {} already has {MAX_ATTACHMENTS_PER_TYPE} attachments of type {kind} ({}); at most {MAX_ATTACHMENTS_PER_TYPE} per type",
                    op.order_id, op.attachment_type
                ),
            ));
        }
        store::insert_attachment(c, &op.order_id, kind, &op.file_name, &op.base64, now)?;
        Ok(())
    })?;
    Ok(vec![AttachmentUploaded {
        order_id: Some(op.order_id),
        extra: Default::default(),
    }])
}

/// Characters of Base64 checked at once by [`is_base64`].
const BASE64_BLOCK: usize = 64 * 1024;

/// Whether `text` is what et-crypto's `b64_decode` reads (standard
/// alphabet, ASCII whitespace skipped, `=` padding optional), checked a
/// block at a time instead of decoding an attachment of megabytes whole.
fn is_base64(text: &str) -> bool {
    let mut block = Vec::with_capacity(BASE64_BLOCK);
    let mut chars = text.bytes().filter(|b| !b.is_ascii_whitespace()).peekable();
    loop {
        block.clear();
        block.extend(chars.by_ref().take(BASE64_BLOCK));
        let last = chars.peek().is_none();
        // Padding ends the text: in a block before the last it is invalid.
        if (!last && block.contains(&b'=')) || et_crypto::b64_decode(&block).is_err() {
            return false;
        }
        if last {
            return true;
        }
    }
}

/// `get_institutions`: the [directory](crate::institutions)'s answer.
fn get_institutions(
    app: &App,
    _: &OpenedRequest,
    op: GetInstitutions,
) -> Result<Vec<Institution>, Refusal> {
    Ok(app.institutions.get_institutions(&op))
}

fn get_pay_url(app: &App, req: &OpenedRequest, op: GetPayUrl) -> Result<Vec<PayUrl>, Refusal> {
    let mut order = owned_order(app, req, &op.order_id)?;
    let status = order.status;
    if status != OrderStatus::AwaitingPayment {
        return Err(Refusal::new(
            SandboxCode::OrderNotAwaitingPayment,
            format!(
                "order {} is in status {} ({status}), not awaiting payment",
                order.order_id,
                status.code()
            ),
        ));
    }
    if let Some(url) = op.notify_url.filter(|u| !u.is_empty()) {
        order.pay_notify_url = url;
        order.updated_at = app.clock.now();
        app.store.tx(|c| store::update_order(c, &order))?;
    }
    Ok(vec![PayUrl {
        pay_config_list: app.pay_configs(&order.order_id),
        order_id: Some(order.order_id),
        extra: Default::default(),
    }])
}

fn query_orders(
    app: &App,
    req: &OpenedRequest,
    op: QueryOrders,
) -> Result<Vec<OrderInfo>, Refusal> {
    let mut found = Vec::with_capacity(op.order_ids.len());
    for id in &op.order_ids {
        let Some(o) = app.store.tx(|c| store::order(c, id))? else {
            continue;
        };
        if o.merchant_number != req.merchant_number {
            continue;
        }
        found.push(order_info(&o));
    }
    Ok(found)
}

/// An order as the batch query reports it.
pub(crate) fn order_info(o: &OrderRecord) -> OrderInfo {
    OrderInfo {
        order_id: o.order_id.clone(),
        merchant_order_id: Some(o.merchant_order_id.clone()),
        order_status: o.status,
        tuition_rmb: Some(o.tuition_rmb.clone()),
        counter_fee: Some(o.counter_fee.clone()),
        currency_code: Some(et_model::CurrencyCode::new(o.currency_code.clone())),
        tuition: Some(o.amount.clone()),
        extra: Default::default(),
    }
}

fn get_rate(app: &App, _: &OpenedRequest, op: GetRate) -> Result<Vec<Rate>, Refusal> {
    let (_, rate) = app.quote(op.currency_code.as_str(), Decimal::ONE)?;
    Ok(vec![Rate {
        currency_code: op.currency_code,
        rate: Amount::from_decimal(rate),
        extra: Default::default(),
    }])
}

fn estimate_amount(
    app: &App,
    _: &OpenedRequest,
    op: EstimateAmount,
) -> Result<Vec<Estimate>, Refusal> {
    let amount = decimal("amount", &op.amount)?;
    let (rmb, rate) = app.quote(op.currency_code.as_str(), amount)?;
    let fee = app.counter_fee()?;
    let total = rmb
        .checked_add(fee)
        .ok_or_else(|| invalid("amount", "is too large"))?;
    Ok(vec![Estimate {
        tuition_rmb: Amount::from_decimal(rmb),
        counter_fee: Amount::from_decimal(fee),
        total_rmb: Some(Amount::from_decimal(total)),
        rate: Some(Amount::from_decimal(rate)),
        extra: Default::default(),
    }])
}

fn apply_refund(
    app: &App,
    req: &OpenedRequest,
    op: ApplyRefund,
) -> Result<Vec<RefundAccepted>, Refusal> {
    let order = owned_order(app, req, &op.order_id)?;
    let due = amount_due(&order).map_err(|e| {
        Refusal::new(
            SandboxCode::Internal,
            format!("order {}: {e}", order.order_id),
        )
    })?;
    let refund_amount = match &op.refund_amount {
        Some(a) => {
            let asked = decimal("refund_amount", a)?;
            let max = decimal("refund_amount", &due)?;
            if asked <= Decimal::ZERO || asked > max {
                return Err(invalid(
                    "refund_amount",
                    &format!("must be more than 0 and at most {due}"),
                ));
            }
            a.clone()
        }
        None => due,
    };
    if !machine::refundable(order.status) {
        // Checked here too so the message names the rule, not just the transition.
        let status = order.status;
        return Err(Refusal::new(
            SandboxCode::IllegalOrderState,
            format!(
                "order {} is in status {} ({status}); a refund needs status 1, 2, 3 or 4",
                order.order_id,
                status.code()
            ),
        ));
    }
    let application = RefundApplication {
        refund_order_id: op.refund_order_id.clone(),
        refund_amount,
    };
    app.transition(
        &order.order_id,
        Some(&req.merchant_number),
        Event::ApplyRefund,
        Some(application),
    )?;
    Ok(vec![RefundAccepted {
        order_id: Some(order.order_id),
        refund_order_id: Some(op.refund_order_id),
        extra: Default::default(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Block by block, the same verdict as decoding the whole text.
        #[test]
        fn is_base64_agrees_with_decoding_whole(
            text in "[A-Za-z0-9+/= \n*]{0,40}",
            repeat in 1usize..3,
        ) {
            let text = text.repeat(repeat);
            prop_assert_eq!(is_base64(&text), et_crypto::b64_decode(&text).is_ok(), "{:?}", text);
        }
    }

    #[test]
    fn is_base64_across_blocks() {
        let whole = "QUJD".repeat(BASE64_BLOCK / 2);
        assert!(is_base64(&whole));
        assert!(is_base64(&format!("{whole}QQ==")));
        assert!(is_base64(&format!("{whole}QQ")));
        assert!(is_base64(&format!(" {whole}\nQUI=\r\n")));
        assert!(
            !is_base64(&format!("QQ=={whole}")),
            "padding in the first block"
        );
        assert!(
            !is_base64(&format!("{whole}Q")),
            "a dangling character at the end"
        );
        assert!(!is_base64(&format!("{}*{}", &whole[..8], &whole[8..])));
        assert!(is_base64(""));
        assert_eq!(is_base64(""), et_crypto::b64_decode("").is_ok());
    }
}
