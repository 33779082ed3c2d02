//! The lifecycle's steps: what the merchant, the student and ET do, each
//! checked against what it should have caused.

use std::time::{Duration, Instant};

use et_model::{
    ApplyRefund, AttachmentType, CountryCode, CreateOrder, CurrencyCode, GetInstitutions,
    GetPayUrl, Notification, NotificationKind, OrderStatus, PayResult, QueryOrders, RefundResult,
    UploadAttachment,
};
use et_sandbox::{AdminAction, AdminAnswer, Event, OrderView};

use super::report::StepError;
use super::script::{earlier, Progress};
use super::setup::Env;
use super::SCHOOL;
use crate::web_client::Page;

/// The order as the sandbox holds it: the typed source of what ET's pages
/// show (never scraped from their markup).
pub(super) fn sandbox_order(env: &Env, order_id: &str) -> Result<OrderView, StepError> {
    env.sandbox
        .order(order_id)
        .map_err(|source| StepError::Refused {
            action: "show",
            source,
        })?
        .ok_or_else(|| StepError::Unexpected(format!("the sandbox has no order {order_id}")))
}

/// A status as the report shows it: its code, then what it means.
pub(super) fn coded(status: OrderStatus) -> String {
    format!("{} ({status})", status.code())
}

/// ET takes step `event` on the order in the sandbox, through the admin
/// vocabulary the dashboard and `et sandbox admin` use: the order after it.
pub(super) fn et_step(env: &Env, order_id: &str, event: Event) -> Result<OrderView, StepError> {
    let action = AdminAction::OrderStep {
        order_id: order_id.to_owned(),
        event,
    };
    let name = action.name();
    match env.sandbox.act(action) {
        Ok(AdminAnswer::Order(order)) => Ok(order),
        Ok(other) => Err(StepError::Unexpected(format!("{name} answered {other:?}"))),
        Err(source) => Err(StepError::EtStep { step: name, source }),
    }
}

/// What the checkout page asks the student to pay.
pub(super) fn due(order: &OrderView) -> String {
    let shown = |text: &str, currency| {
        et_model::Amount::new(text)
            .map_or_else(|_| text.to_owned(), |a| a.readable(currency).to_string())
    };
    format!(
        "{} + {} fee due",
        shown(&order.tuition_rmb, "RMB"),
        shown(&order.counter_fee, "")
    )
}

/// The student opens the checkout page.
pub(super) async fn open_checkout(env: &Env, p: &mut Progress) -> Result<String, StepError> {
    let url = earlier(&p.pay_url, "payment address")?;
    let page = env.web.get(url).await?;
    expect_ok(&page)?;
    let order = sandbox_order(env, p.order_id()?)?;
    let detail = format!(
        "GET {} → {}, {}",
        page_path(url),
        page.status.as_u16(),
        due(&order)
    );
    p.checkout = Some(page);
    Ok(detail)
}

/// The student pays on the checkout page as a browser does (its form);
/// the sandbox then holds the order paid.
pub(super) async fn pay(env: &mut Env, p: &Progress) -> Result<String, StepError> {
    let page = earlier(&p.checkout, "checkout page")?;
    env.arrivals.mark();
    let paid = env.web.submit_first_form(page).await?;
    expect_ok(&paid)?;
    let order = sandbox_order(env, p.order_id()?)?;
    if order.status != OrderStatus::Paid {
        return Err(StepError::Unexpected(format!(
            "the order is in status {} after paying",
            coded(order.status)
        )));
    }
    Ok(format!(
        "POST form → {}, order status {}",
        paid.status.as_u16(),
        coded(order.status)
    ))
}

/// The verified payment-success notification of `order_id`.
pub(super) async fn payment_notification(
    env: &mut Env,
    order_id: &str,
) -> Result<String, StepError> {
    let (n, after) = env
        .arrivals
        .of_order(
            "payment success",
            NotificationKind::PaymentSuccess,
            order_id,
        )
        .await?;
    match n.notification() {
        Notification::PaymentSuccess(p) if p.pay_result == PayResult::Succeeded => Ok(format!(
            "verified, pay_amount {}, {after}",
            p.pay_amount
                .readable(p.pay_currency_code.as_ref().map_or("", |c| c.as_str()))
        )),
        _ => Err(StepError::Unexpected(
            "payment notification says the payment failed".to_owned(),
        )),
    }
}

/// The verified remittance-voucher notification: the voucher's address.
pub(super) async fn remittance_voucher(
    env: &mut Env,
    order_id: &str,
) -> Result<(String, String), StepError> {
    let (n, after) = env
        .arrivals
        .of_order(
            "remittance voucher",
            NotificationKind::RemittanceVoucher,
            order_id,
        )
        .await?;
    match n.notification() {
        Notification::RemittanceVoucher(v) => Ok((
            v.remittance_voucher_url.clone(),
            format!(
                "verified, {}, {after}",
                page_path(&v.remittance_voucher_url)
            ),
        )),
        _ => Err(StepError::Unexpected("not a voucher".to_owned())),
    }
}

pub(super) async fn download_voucher(env: &Env, url: &str) -> Result<String, StepError> {
    let pdf = env.web.get(url).await?;
    expect_ok(&pdf)?;
    if !pdf.body.starts_with(b"%PDF") {
        return Err(StepError::Unexpected(format!(
            "{} bytes that do not start with %PDF",
            pdf.body.len()
        )));
    }
    Ok(format!("{} bytes, %PDF", pdf.body.len()))
}

/// ET decides the refund (granted); its verified result notification.
pub(super) async fn refund_result(env: &mut Env, order_id: &str) -> Result<String, StepError> {
    env.arrivals.mark();
    et_step(env, order_id, Event::RefundResult { success: true })?;
    let (n, after) = env
        .arrivals
        .of_order("refund result", NotificationKind::RefundResult, order_id)
        .await?;
    match n.notification() {
        Notification::RefundResult(x) if x.refund_result == RefundResult::Succeeded => Ok(format!(
            "verified, refund_amount {}, {after}",
            x.refund_amount.readable("RMB")
        )),
        _ => Err(StepError::Unexpected(
            "refund result says the refund failed".to_owned(),
        )),
    }
}

/// The institution code of `name`, as a merchant finds it before ordering.
pub(super) async fn find_institution(env: &Env, name: &str) -> Result<(String, String), StepError> {
    let reply = env
        .client
        .get_institutions(&GetInstitutions::new(name))
        .await?;
    let found = reply
        .items
        .iter()
        .find(|i| i.institution_name_en.as_deref() == Some(name))
        .ok_or_else(|| {
            StepError::Unexpected(format!(
                "{name:?} is not among the {} found",
                reply.items.len()
            ))
        })?;
    let code = found.institution_code.to_string();
    // The Chinese name would be wider than its character count and shift the column.
    let detail = format!("{name} → {code}");
    Ok((code, detail))
}

pub(super) async fn create_order(
    env: &Env,
    institution_code: &str,
) -> Result<(String, String), StepError> {
    let mut order = CreateOrder::new(
        format!("DEMO-{}", std::process::id()),
        "student-42",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "10000.00".parse()?,
    );
    order.institution_code = Some(institution_code.to_owned());
    order.school_name = Some(SCHOOL.to_owned());
    order.student_email = Some("student@example.com".to_owned());
    order.notify_url = Some(env.receiver_url.clone());
    order.status_change_notify_url = Some(env.receiver_url.clone());
    let reply = env.client.create_order(&order).await?;
    let created = reply
        .items
        .into_iter()
        .next()
        .ok_or_else(|| StepError::Unexpected("the reply holds no order".to_owned()))?;
    let rmb = created
        .tuition_rmb
        .as_ref()
        .map_or_else(|| "RMB ?".to_owned(), |a| a.readable("RMB").to_string());
    Ok((
        created.order_id.clone(),
        format!(
            "{}, {} = {rmb}",
            created.order_id,
            order.tuition.readable("GBP")
        ),
    ))
}

pub(super) async fn upload_offer_letter(env: &Env, order_id: &str) -> Result<String, StepError> {
    const OFFER_LETTER: &[u8] = b"%PDF-1.4\n% offer letter of student-42\n%%EOF\n";
    let upload = UploadAttachment {
        order_id: order_id.to_owned(),
        attachment_type: AttachmentType::OfferLetter,
        base64: et_crypto::b64_encode(OFFER_LETTER),
        file_name: "offer-letter.pdf".to_owned(),
        extra: Default::default(),
    };
    env.client.upload_attachment(&upload).await?;
    Ok(format!("offer-letter.pdf, {} bytes", OFFER_LETTER.len()))
}

pub(super) async fn get_pay_url(env: &Env, order_id: &str) -> Result<String, StepError> {
    let mut op = GetPayUrl::new(order_id);
    op.notify_url = Some(env.receiver_url.clone());
    let reply = env.client.get_pay_url(&op).await?;
    reply
        .items
        .iter()
        .flat_map(|p| &p.pay_config_list)
        .map(|c| c.pay_url.clone())
        .next()
        .ok_or_else(|| StepError::Unexpected("the reply holds no pay_url".to_owned()))
}

pub(super) async fn query_order(
    env: &Env,
    order_id: &str,
    expected: OrderStatus,
) -> Result<String, StepError> {
    let reply = env
        .client
        .query_orders(&QueryOrders::new([order_id]))
        .await?;
    let order = reply
        .items
        .iter()
        .find(|o| o.order_id == order_id)
        .ok_or_else(|| StepError::Unexpected("the order is not in the reply".to_owned()))?;
    if order.order_status != expected {
        return Err(StepError::Unexpected(format!(
            "status {}, expected {expected}",
            coded(order.order_status)
        )));
    }
    Ok(format!("status {}, decrypted", coded(order.order_status)))
}

pub(super) async fn apply_refund(env: &Env, order_id: &str) -> Result<String, StepError> {
    let refund = ApplyRefund {
        order_id: order_id.to_owned(),
        refund_order_id: format!("REFUND-{order_id}"),
        refund_amount: None,
        refund_reason: Some("visa refused".to_owned()),
        extra: Default::default(),
    };
    env.client.apply_refund(&refund).await?;
    Ok(refund.refund_order_id)
}

/// Every notification of the order acknowledged at its first delivery,
/// per the sandbox's outbox. The acknowledgement reaches the sandbox just
/// after the handler saw the event, so this polls (bounded).
pub(super) async fn all_acknowledged(env: &Env, order_id: &str) -> Result<String, StepError> {
    let deadline = Instant::now() + env.arrivals.timeout;
    loop {
        let outbox = env
            .sandbox
            .notifications(Some(order_id))
            .map_err(|source| StepError::Refused {
                action: "notifications",
                source,
            })?;
        let waiting: Vec<_> = outbox
            .iter()
            .filter(|n| !n.delivered)
            .map(|n| n.kind.as_str())
            .collect();
        if waiting.is_empty() {
            if let Some(n) = outbox.iter().find(|n| n.attempts > 1) {
                return Err(StepError::Unexpected(format!(
                    "{} needed {} deliveries (last error: {})",
                    n.kind, n.attempts, n.last_error
                )));
            }
            return Ok(format!(
                "{} sent, {} received, each at first delivery",
                outbox.len(),
                env.arrivals.received
            ));
        }
        if Instant::now() >= deadline {
            return Err(StepError::Unexpected(format!(
                "not acknowledged: {}",
                waiting.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A page that loaded with a success status.
pub(super) fn expect_ok(page: &Page) -> Result<(), StepError> {
    if page.status.is_success() {
        Ok(())
    } else {
        Err(StepError::Unexpected(format!(
            "{} answered {}: {}",
            page.url,
            page.status,
            page.text().chars().take(120).collect::<String>()
        )))
    }
}

/// The path of a URL (for short step lines).
pub(super) fn page_path(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_urls() {
        assert_eq!(page_path("http://127.0.0.1:1/pay/ET1"), "/pay/ET1");
        assert_eq!(page_path("nonsense"), "nonsense");
    }
}
