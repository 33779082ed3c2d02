//! The demo's third-party jump run: the merchant hands the student over
//! to ET (`merchant_jump_place_order`), the student completes and places
//! the order on ET's page and pays it; the merchant hears of it only
//! through notifications.

use et_model::{JumpPlaceOrder, OrderStatus};

use super::report::StepError;
use super::script::{earlier, Action, Progress};
use super::setup::Env;
use super::steps::{due, expect_ok, sandbox_order};
use super::SCHOOL;

/// The jump run.
pub(super) const SCRIPT: &[Action] = &[
    Action::LookUpInstitution,
    Action::HandOver,
    Action::OpenJumpPage,
    Action::PlaceJumpOrder,
    Action::Pay,
    Action::PaymentNotification,
    Action::Status(OrderStatus::Paid),
    Action::QueryOrder(OrderStatus::Paid),
    Action::AllAcknowledged,
];

/// `merchant_jump_place_order` with what the merchant knows: the school,
/// the amount and the student; every notification to the receiver.
pub(super) async fn hand_over(env: &Env, p: &mut Progress) -> Result<String, StepError> {
    let jump = JumpPlaceOrder {
        school_name: Some(SCHOOL.to_owned()),
        tuition: Some("9000.00".parse()?),
        first_name_en: Some("San".to_owned()),
        last_name_en: Some("Zhang".to_owned()),
        name_ch: Some("张三".to_owned()),
        student_email: Some("student@example.com".to_owned()),
        status_change_notify_url: Some(env.receiver_url.clone()),
        ..JumpPlaceOrder::new(format!("DEMO-JUMP-{}", std::process::id()), "student-43")
    };
    let reply = env.client.jump_place_order(&jump).await?;
    let url = reply
        .items
        .into_iter()
        .find_map(|a| a.jump_url)
        .ok_or_else(|| StepError::Unexpected("the reply holds no jump_url".to_owned()))?;
    let detail = format!(
        "{}, verified, jump address received",
        jump.merchant_order_id
    );
    p.jump_url = Some(url);
    p.merchant_order_id = Some(jump.merchant_order_id);
    Ok(detail)
}

/// The student opens the jump address.
pub(super) async fn open_page(env: &Env, p: &mut Progress) -> Result<String, StepError> {
    let page = env.web.get(earlier(&p.jump_url, "jump address")?).await?;
    expect_ok(&page)?;
    let detail = format!(
        "GET → {}, for merchant order {}",
        page.status.as_u16(),
        earlier(&p.merchant_order_id, "merchant order")?
    );
    p.jump_page = Some(page);
    Ok(detail)
}

/// The student fills in what the merchant left out and places the order;
/// ET answers with the order's checkout page (`/pay/{order_id}`, the
/// sandbox's route), and the sandbox confirms the order is the merchant's.
pub(super) async fn place_order(env: &Env, p: &mut Progress) -> Result<String, StepError> {
    let code = earlier(&p.institution_code, "institution code")?;
    let form = earlier(&p.jump_page, "jump page")?;
    let filled = [
        ("institution_code", code.as_str()),
        ("currency_code", "GBP"),
    ];
    let page = env.web.fill_and_submit_first_form(form, &filled).await?;
    expect_ok(&page)?;
    let order_id = page
        .url
        .path()
        .strip_prefix("/pay/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            StepError::Unexpected(format!(
                "placing the order led to {}, not a checkout page",
                page.url
            ))
        })?
        .to_owned();
    let order = sandbox_order(env, &order_id)?;
    let merchant_order_id = earlier(&p.merchant_order_id, "merchant order")?;
    if &order.merchant_order_id != merchant_order_id {
        return Err(StepError::Unexpected(format!(
            "order {order_id} is merchant order {}, not {merchant_order_id}",
            order.merchant_order_id
        )));
    }
    let detail = format!("{order_id} {code}: {}", due(&order));
    p.checkout = Some(page);
    p.order_id = Some(order_id);
    Ok(detail)
}
