//! Third-party jump ordering (`merchant_jump_place_order`).
//!
//! A jump request is saved under a random token and answered with the
//! address `/jump/{token}`. There the student sees what the merchant sent,
//! fills in the rest (currency, amount if the merchant gave none,
//! institution or country, names) and places the order; it is then an
//! ordinary order, created by the same code as `create_order`, whose
//! notifications all go to the jump's `status_change_notify_url`. The token
//! is the only credential of the page, so it is long and random; a retried
//! request (same `merchant_order_id`) gets the same address, and a jump
//! places at most one order.

use et_model::{
    Amount, CountryCode, CreateOrder, CurrencyCode, JumpAddress, JumpPlaceOrder, Payload,
};
use et_proto::OpenedRequest;

use crate::access::random_token;
use crate::app::App;
use crate::codes::{Refusal, SandboxCode};
use crate::pages;
use crate::store::{self, JumpRecord};

/// Largest form the jump page accepts.
pub(crate) const MAX_FORM: usize = 16 * 1024;

/// `merchant_jump_place_order`: saves the request, answers with the page's address.
pub(crate) fn place_jump(
    app: &App,
    req: &OpenedRequest,
    op: JumpPlaceOrder,
) -> Result<Vec<JumpAddress>, Refusal> {
    let request = serde_json::to_string(&op).map_err(|e| {
        Refusal::new(
            SandboxCode::Internal,
            format!("saving the jump failed: {e}"),
        )
    })?;
    let record = JumpRecord {
        token: random_token(),
        merchant_number: req.merchant_number.clone(),
        sub_merchant_number: req.sub_merchant_number.clone(),
        merchant_order_id: op.merchant_order_id.clone(),
        request,
        order_id: None,
        created_at: app.clock.now(),
    };
    let token = app.store.tx(|c| {
        let placed =
            store::order_by_merchant_order_id(c, &req.merchant_number, &op.merchant_order_id)?;
        if let Some(o) = placed {
            return Err(crate::engine::already_used(&o, "query that order instead"));
        }
        Ok(store::upsert_jump(c, &record)?)
    })?;
    Ok(vec![JumpAddress {
        jump_url: Some(app.jump_url(&token)),
        order_id: None,
        extra: Default::default(),
    }])
}

/// What the jump page routes answer.
#[derive(Debug)]
pub(crate) enum JumpPage {
    /// An HTML page; `ok` false when it shows a refusal.
    Html {
        /// Whether the page shows success (else it repeats the form with a note).
        ok: bool,
        /// The page.
        page: maud::Markup,
    },
    /// Go to the order's checkout page.
    Checkout(String),
    /// No such jump.
    NotFound,
}

/// `GET /jump/{token}`: the form, or the order once placed.
pub(crate) fn show(app: &App, token: &str) -> Result<JumpPage, Refusal> {
    let Some((jump, op)) = load(app, token)? else {
        return Ok(JumpPage::NotFound);
    };
    Ok(match jump.order_id {
        Some(order_id) => JumpPage::Checkout(order_id),
        None => JumpPage::Html {
            ok: true,
            page: pages::jump_form(token, &op, &[], ""),
        },
    })
}

/// `POST /jump/{token}`: places the order from the student's form.
pub(crate) fn submit(app: &App, token: &str, form: &[u8]) -> Result<JumpPage, Refusal> {
    let Some((jump, op)) = load(app, token)? else {
        return Ok(JumpPage::NotFound);
    };
    if let Some(order_id) = jump.order_id {
        return Ok(JumpPage::Checkout(order_id));
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(form)
        .map(|(k, v)| (k.into_owned(), v.trim().to_owned()))
        .collect();
    let placed = order_from_form(app, &op, &fields)
        .and_then(|order| app.place_order(&jump.merchant_number, &jump.sub_merchant_number, order));
    match placed {
        Ok(created) => {
            app.store
                .tx(|c| store::set_jump_order(c, token, &created.order_id))?;
            Ok(JumpPage::Checkout(created.order_id))
        }
        Err(refusal) if refusal.code == SandboxCode::Internal => Err(refusal),
        Err(refusal) => Ok(JumpPage::Html {
            ok: false,
            page: pages::jump_form(token, &op, &fields, &refusal.message),
        }),
    }
}

fn load(app: &App, token: &str) -> Result<Option<(JumpRecord, JumpPlaceOrder)>, Refusal> {
    let Some(jump) = app.store.tx(|c| store::jump(c, token))? else {
        return Ok(None);
    };
    let op = serde_json::from_str(&jump.request).map_err(|e| {
        Refusal::new(
            SandboxCode::Internal,
            format!("a saved jump does not read back: {e}"),
        )
    })?;
    Ok(Some((jump, op)))
}

/// The order the student asks for: the merchant's fields, then the form's
/// for what the merchant left out. Every notification goes to the jump's
/// one URL.
fn order_from_form(
    app: &App,
    op: &JumpPlaceOrder,
    fields: &[(String, String)],
) -> Result<CreateOrder, Refusal> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let missing = |what: &str| invalid(what, "is required: fill it in");
    let institution_code = field("institution_code");
    let chosen = app.institutions.for_order(institution_code.as_deref())?;
    let country = field("country_code")
        .map(|c| CountryCode::from_code(&c))
        .or_else(|| chosen.and_then(|i| i.country_code.clone()))
        .ok_or_else(|| missing("country_code"))?;
    let currency = field("currency_code").ok_or_else(|| missing("currency_code"))?;
    let tuition = match &op.tuition {
        Some(amount) => amount.clone(),
        None => {
            let text = field("tuition").ok_or_else(|| missing("tuition"))?;
            Amount::new(&text)
                .map_err(|e| invalid("tuition", &format!("is not an amount ({e})")))?
        }
    };
    let mut order = CreateOrder::new(
        op.merchant_order_id.clone(),
        op.merchant_user_key.clone(),
        country,
        CurrencyCode::from(currency.as_str()),
        tuition,
    );
    let given = |merchant: &Option<String>, name: &str| merchant.clone().or_else(|| field(name));
    order.institution_code = institution_code;
    order.school_name = op.school_name.clone();
    order.apartment_name = op.apartment_name.clone();
    order.city_name_en = op.city_name_en.clone();
    order.city_name_ch = op.city_name_ch.clone();
    order.first_name_en = given(&op.first_name_en, "first_name_en");
    order.last_name_en = given(&op.last_name_en, "last_name_en");
    order.name_ch = given(&op.name_ch, "name_ch");
    order.student_id_number = op.student_id_number.clone();
    order.student_mobile = op.student_mobile.clone();
    order.student_email = given(&op.student_email, "student_email");
    order.student_address = op.student_address.clone();
    order.wechat_number = op.wechat_number.clone();
    order.fee_type_list = op.fee_type_list.clone();
    order.notify_url = op.status_change_notify_url.clone();
    order.status_change_notify_url = op.status_change_notify_url.clone();
    order.validate()?;
    Ok(order)
}

fn invalid(field: &str, rule: &str) -> Refusal {
    Refusal::new(
        SandboxCode::InvalidPayload,
        format!("field `{field}` {rule}"),
    )
}
