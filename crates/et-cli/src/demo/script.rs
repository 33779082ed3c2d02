//! The demo's scripts: the [`Action`]s of an order's life in order, and
//! what each one does.

use et_model::OrderStatus;
use et_sandbox::Event;

use super::report::StepError;
use super::runner::Runner;
use super::setup::Env;
use super::{jump, steps, SCHOOL};
use crate::web_client::Page;

/// What the demo does, one step each: the scripts [`LIFECYCLE`] and
/// [`jump::SCRIPT`] list them in order, [`Action::perform`] does one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Find [`SCHOOL`]'s institution code, as a merchant does before ordering.
    LookUpInstitution,
    /// `create_order` for the institution, every notification to the receiver.
    CreateOrder,
    /// `upload_attachment`: the offer letter.
    UploadOfferLetter,
    /// `get_pay_url`: the checkout page's address.
    GetPayUrl,
    /// The student opens the checkout page.
    OpenCheckout,
    /// The student pays on the checkout page.
    Pay,
    /// The payment-success notification arrives, verified.
    PaymentNotification,
    /// The status-change notification to this status arrives, verified.
    Status(OrderStatus),
    /// ET takes this step of [`et_sandbox::AdminAction::ORDER_STEPS`] on
    /// the order in the sandbox (its notification is a later step's).
    Et(Event),
    /// The remittance-voucher notification arrives, verified.
    RemittanceVoucher,
    /// The voucher's address serves a PDF.
    DownloadVoucher,
    /// `query_orders` says the order has this status.
    QueryOrder(OrderStatus),
    /// `apply_refund`.
    ApplyRefund,
    /// ET decides the refund; its result notification arrives, verified.
    RefundResult,
    /// The sandbox's outbox says every notification was acknowledged at
    /// its first delivery.
    AllAcknowledged,
    /// `merchant_jump_place_order`: the student is handed over to ET.
    HandOver,
    /// The student opens the jump page.
    OpenJumpPage,
    /// The student fills in the rest and places the order.
    PlaceJumpOrder,
}

/// One order's whole life.
pub(super) const LIFECYCLE: &[Action] = &[
    Action::LookUpInstitution,
    Action::CreateOrder,
    Action::UploadOfferLetter,
    Action::GetPayUrl,
    Action::OpenCheckout,
    Action::Pay,
    Action::PaymentNotification,
    Action::Status(OrderStatus::Paid),
    Action::Et(Event::Remit),
    Action::Status(OrderStatus::Remitting),
    Action::Et(Event::Receive),
    Action::Status(OrderStatus::AwaitingReceipt),
    Action::RemittanceVoucher,
    Action::DownloadVoucher,
    Action::Et(Event::Complete),
    Action::Status(OrderStatus::Completed),
    Action::QueryOrder(OrderStatus::Completed),
    Action::ApplyRefund,
    Action::Status(OrderStatus::Refunding),
    Action::RefundResult,
    Action::Status(OrderStatus::Refunded),
    Action::AllAcknowledged,
];

/// What the steps so far found out, for the steps after them.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub(super) institution_code: Option<String>,
    pub(super) merchant_order_id: Option<String>,
    pub(super) order_id: Option<String>,
    pub(super) pay_url: Option<String>,
    /// The checkout page as the student's browser shows it.
    pub(super) checkout: Option<Page>,
    pub(super) jump_url: Option<String>,
    pub(super) jump_page: Option<Page>,
    pub(super) voucher_url: Option<String>,
}

/// A value an earlier step of the script provides.
pub(super) fn earlier<'a, T>(value: &'a Option<T>, what: &'static str) -> Result<&'a T, StepError> {
    value.as_ref().ok_or(StepError::NoEarlier(what))
}

impl Progress {
    pub(super) fn order_id(&self) -> Result<&str, StepError> {
        earlier(&self.order_id, "order id").map(String::as_str)
    }
}

/// Runs `script` one action after another; `None` once a step failed.
pub(super) async fn play(r: &mut Runner<'_>, env: &mut Env, script: &[Action]) -> Option<Progress> {
    let mut progress = Progress::default();
    for &action in script {
        let work = async { action.perform(env, &mut progress).await.map(|d| ((), d)) };
        r.step(action.name(), work).await?;
    }
    Some(progress)
}

impl Action {
    /// The step's name in the report.
    fn name(self) -> &'static str {
        match self {
            Action::LookUpInstitution => "look up institution",
            Action::CreateOrder => "create order",
            Action::UploadOfferLetter => "upload offer letter",
            Action::GetPayUrl => "get payment address",
            Action::OpenCheckout => "open checkout page",
            Action::Pay => "pay on checkout page",
            Action::PaymentNotification => "payment notification",
            Action::Status(status) => status_step(status),
            // ET's steps are named as the sandbox's admin actions name them.
            Action::Et(event) => event.name(),
            Action::RemittanceVoucher => "remittance voucher",
            Action::DownloadVoucher => "download voucher PDF",
            Action::QueryOrder(_) => "query order",
            Action::ApplyRefund => "apply for refund",
            Action::RefundResult => "refund result",
            Action::AllAcknowledged => "all notifications acknowledged",
            Action::HandOver => "hand student over to ET",
            Action::OpenJumpPage => "open jump page",
            Action::PlaceJumpOrder => "student places order",
        }
    }

    /// Does the step: its detail for the report, or what failed.
    async fn perform(self, env: &mut Env, p: &mut Progress) -> Result<String, StepError> {
        match self {
            Action::LookUpInstitution => {
                let (code, detail) = steps::find_institution(env, SCHOOL).await?;
                p.institution_code = Some(code);
                Ok(detail)
            }
            Action::CreateOrder => {
                let code = earlier(&p.institution_code, "institution code")?;
                let (order_id, detail) = steps::create_order(env, code).await?;
                p.order_id = Some(order_id);
                Ok(detail)
            }
            Action::UploadOfferLetter => steps::upload_offer_letter(env, p.order_id()?).await,
            Action::GetPayUrl => {
                let url = steps::get_pay_url(env, p.order_id()?).await?;
                let detail = steps::page_path(&url).to_owned();
                p.pay_url = Some(url);
                Ok(detail)
            }
            Action::OpenCheckout => steps::open_checkout(env, p).await,
            Action::Pay => steps::pay(env, p).await,
            Action::PaymentNotification => steps::payment_notification(env, p.order_id()?).await,
            Action::Status(status) => env.arrivals.status(p.order_id()?, status).await,
            Action::Et(event) => {
                env.arrivals.mark();
                let order = steps::et_step(env, p.order_id()?, event)?;
                Ok(format!("order now {}", steps::coded(order.status)))
            }
            Action::RemittanceVoucher => {
                let (url, detail) = steps::remittance_voucher(env, p.order_id()?).await?;
                p.voucher_url = Some(url);
                Ok(detail)
            }
            Action::DownloadVoucher => {
                steps::download_voucher(env, earlier(&p.voucher_url, "voucher address")?).await
            }
            Action::QueryOrder(status) => steps::query_order(env, p.order_id()?, status).await,
            Action::ApplyRefund => {
                env.arrivals.mark();
                steps::apply_refund(env, p.order_id()?).await
            }
            Action::RefundResult => steps::refund_result(env, p.order_id()?).await,
            Action::AllAcknowledged => steps::all_acknowledged(env, p.order_id()?).await,
            Action::HandOver => jump::hand_over(env, p).await,
            Action::OpenJumpPage => jump::open_page(env, p).await,
            Action::PlaceJumpOrder => jump::place_order(env, p).await,
        }
    }
}

/// The name of the step that waits for the change to `status`.
fn status_step(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "status → paid",
        OrderStatus::Remitting => "status → remitting",
        OrderStatus::AwaitingReceipt => "status → awaiting receipt",
        OrderStatus::Completed => "status → completed",
        OrderStatus::Refunding => "status → refunding",
        OrderStatus::Refunded => "status → refunded",
        _ => "status change",
    }
}

#[cfg(test)]
mod tests {
    use et_sandbox::AdminAction;

    use super::*;

    #[test]
    fn each_et_step_of_the_scripts_is_the_admin_order_step_its_name_says() {
        let mut steps = 0;
        for script in [LIFECYCLE, jump::SCRIPT] {
            for &action in script {
                if let Action::Et(event) = action {
                    steps += 1;
                    let named = AdminAction::on_order("ET1", action.name()).expect("a step");
                    let order_id = "ET1".to_owned();
                    assert_eq!(named, AdminAction::OrderStep { order_id, event });
                }
            }
        }
        assert!(steps >= 3, "remit, receive and complete at least");
    }
}
