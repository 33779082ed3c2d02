//! The demo's third-party jump run: the merchant hands the student over
//! to ET (`merchant_jump_place_order`), the student completes and places
//! the order on ET's page and pays it; the merchant hears of it only
//! through notifications.

use et_model::{JumpPlaceOrder, OrderStatus};

use super::{
    all_acknowledged, between, expect_ok, find_institution, pay_and_see_paid, query_order, Env,
    Runner, SCHOOL,
};

/// The jump run; `None` once a step failed.
pub(super) async fn flow(r: &mut Runner<'_>, env: &mut Env) -> Option<()> {
    let code = r
        .step("look up institution", find_institution(env, SCHOOL))
        .await?;
    let jump_url = r.step("hand student over to ET", hand_over(env)).await?;
    let form = r
        .step("open jump page", async {
            let page = env.web.get(&jump_url).await?;
            expect_ok(&page)?;
            let text = page.text();
            let order = between(&text, "id=\"merchant_order_id\">", "<").unwrap_or("?");
            let detail = format!(
                "GET → {}, shows merchant order {order}",
                page.status.as_u16()
            );
            Ok((page, detail))
        })
        .await?;
    let page = r
        .step("student places order", async {
            let filled = [
                ("institution_code", code.as_str()),
                ("currency_code", "GBP"),
            ];
            let page = env.web.fill_and_submit_first_form(&form, &filled).await?;
            expect_ok(&page)?;
            let text = page.text();
            let order_id = between(&text, "id=\"order_id\">", "<")
                .ok_or("the order page names no order")?
                .to_owned();
            let due = between(&text, "id=\"amount_rmb\">", "<").unwrap_or("?");
            let detail = format!("{order_id}, {code} + GBP → checkout, {due}");
            Ok(((page, order_id), detail))
        })
        .await?;
    let (checkout, order_id) = page;
    let order_id = order_id.as_str();
    pay_and_see_paid(r, env, &checkout, order_id).await?;
    r.step("query order", query_order(env, order_id, OrderStatus::Paid))
        .await?;
    r.step(
        "all notifications acknowledged",
        all_acknowledged(env, order_id),
    )
    .await
}

/// `merchant_jump_place_order` with what the merchant knows: the school,
/// the amount and the student; every notification to the receiver.
async fn hand_over(env: &Env) -> Result<(String, String), String> {
    let jump = JumpPlaceOrder {
        school_name: Some(SCHOOL.to_owned()),
        tuition: Some("9000.00".parse().map_err(|e| format!("amount: {e}"))?),
        first_name_en: Some("San".to_owned()),
        last_name_en: Some("Zhang".to_owned()),
        name_ch: Some("张三".to_owned()),
        student_email: Some("student@example.com".to_owned()),
        status_change_notify_url: Some(env.receiver_url.clone()),
        ..JumpPlaceOrder::new(format!("DEMO-JUMP-{}", std::process::id()), "student-43")
    };
    let reply = env
        .client
        .jump_place_order(&jump)
        .await
        .map_err(|e| e.to_string())?;
    let url = reply
        .items
        .into_iter()
        .find_map(|a| a.jump_url)
        .ok_or("the reply holds no jump_url")?;
    let detail = format!(
        "{}, verified, jump address received",
        jump.merchant_order_id
    );
    Ok((url, detail))
}
