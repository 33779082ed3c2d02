//! The jump page (`/jump/{token}`): the student sees what the merchant
//! sent (read-only), chooses the institution from the directory and the
//! currency from the rate table, fills in what the merchant left out, and
//! places the order; it is then an ordinary order, created by the same
//! code as `create_order`, whose notifications all go to the jump's
//! `status_change_notify_url`. Once placed, the page leads to the order's
//! checkout page.

use et_model::{Amount, CountryCode, CreateOrder, CurrencyCode, JumpPlaceOrder, Payload};
use http::StatusCode;
use maud::{html, Markup, DOCTYPE};

use crate::app::App;
use crate::codes::{Refusal, SandboxCode};
use crate::html::head;
use crate::html::{failed, not_found};
use crate::reply::{html, see_other, Reply};
use crate::store::{self, JumpRecord};

/// Largest form the jump page accepts.
pub(crate) const MAX_FORM: usize = 16 * 1024;

/// `GET /jump/{token}`: the form, or the order's checkout once placed.
pub(crate) fn show(app: &App, token: &str) -> Reply {
    match load(app, token) {
        Ok(Some((jump, _))) if jump.order_id.is_some() => checkout(app, &jump),
        Ok(Some((_, op))) => html(StatusCode::OK, page(app, token, &op, &[], "")),
        Ok(None) => not_found("no such jump"),
        Err(r) => failed(&r),
    }
}

/// `POST /jump/{token}`: places the order from the student's form, and
/// goes to its checkout page; or the form again with what was wrong (422).
pub(crate) fn submit(app: &App, token: &str, form: &[u8]) -> Reply {
    let (jump, op) = match load(app, token) {
        Ok(Some((jump, _))) if jump.order_id.is_some() => return checkout(app, &jump),
        Ok(Some(found)) => found,
        Ok(None) => return not_found("no such jump"),
        Err(r) => return failed(&r),
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(form)
        .map(|(k, v)| (k.into_owned(), v.trim().to_owned()))
        .collect();
    let placed = order_from_form(app, &op, &fields)
        .and_then(|order| app.place_order(&jump.merchant_number, &jump.sub_merchant_number, order));
    let refusal = match placed {
        Ok(created) => {
            let noted = app
                .store
                .tx(|c| store::set_jump_order(c, token, &created.order_id));
            return match noted {
                Ok(()) => see_other(&app.pay_url(&created.order_id)),
                Err(e) => failed(&e.into()),
            };
        }
        Err(refusal) if refusal.code == SandboxCode::Internal => return failed(&refusal),
        Err(refusal) => refusal,
    };
    let page = page(app, token, &op, &fields, &refusal.message);
    html(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// `303` to the checkout page of the order the jump placed.
fn checkout(app: &App, jump: &JumpRecord) -> Reply {
    see_other(&app.pay_url(jump.order_id.as_deref().unwrap_or_default()))
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

/// The page: what the merchant sent (read-only), and a form for the rest.
/// `entered` is the student's last input, shown again with `note` when it
/// was refused. Every value, all of it the merchant's or the student's,
/// is escaped.
fn page(
    app: &App,
    token: &str,
    op: &JumpPlaceOrder,
    entered: &[(String, String)],
    note: &str,
) -> Markup {
    let tuition = op.tuition.as_ref().map(|a| a.readable("").to_string());
    let sent: Vec<(&str, &String)> = [
        ("School", &op.school_name),
        ("Apartment", &op.apartment_name),
        ("City", &op.city_name_en),
        ("City (Chinese)", &op.city_name_ch),
        ("Amount", &tuition),
        ("Given name", &op.first_name_en),
        ("Family name", &op.last_name_en),
        ("Chinese name", &op.name_ch),
        ("ID number", &op.student_id_number),
        ("Mobile", &op.student_mobile),
        ("E-mail", &op.student_email),
        ("Address", &op.student_address),
        ("WeChat", &op.wechat_number),
    ]
    .into_iter()
    .filter_map(|(label, v)| v.as_ref().map(|v| (label, v)))
    .collect();
    // Text inputs for what the merchant left out: (name, label).
    let asked = [
        ("tuition", "Amount in that currency", op.tuition.is_none()),
        (
            "first_name_en",
            "Given name (English)",
            op.first_name_en.is_none(),
        ),
        (
            "last_name_en",
            "Family name (English)",
            op.last_name_en.is_none(),
        ),
        ("name_ch", "Chinese name", op.name_ch.is_none()),
        ("student_email", "E-mail", op.student_email.is_none()),
    ];
    let value = |name: &str| {
        entered
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let fees: Vec<_> = op.fee_type_list.iter().flatten().collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(html! { "EasyTransfer sandbox: place your order" }, false))
            body.checkout { div.card {
                h1 { "Place your order" }
                @if !note.is_empty() { p.flash.note #note { (note) } }
                p { "Merchant order " span.code #merchant_order_id { (op.merchant_order_id) } }
                @if !sent.is_empty() {
                    h2 { "From your merchant" }
                    dl #from_merchant {
                        @for (label, v) in &sent { dt { (label) } dd { (v) } }
                    }
                }
                @if !fees.is_empty() {
                    h2 { "Fees" }
                    ul #fee_types {
                        @for f in &fees { li { (f.fee_type_desc) " (" (f.fee_type.to_string()) ")" } }
                    }
                }
                form.jump method="post" action=(format!("/jump/{token}")) {
                    label { "Institution"
                        select #institution_code name="institution_code" {
                            option value="" selected[value("institution_code").is_empty()] { "None: I give the country below" }
                            @for i in app.institutions.all() {
                                @let code = i.institution_code.as_str();
                                option value=(code) selected[value("institution_code") == code] {
                                    (i.institution_name_en.as_deref().unwrap_or_default())
                                    @if let Some(ch) = &i.institution_name_ch { " " (ch) }
                                    " (" (code) ")"
                                }
                            }
                        }
                    }
                    label { "Country code (empty: the institution's)"
                        input name="country_code" value=(value("country_code")) maxlength="3";
                    }
                    label { "Currency"
                        select #currency_code name="currency_code" {
                            @for currency in app.rates.rates.keys() {
                                option value=(currency) selected[value("currency_code") == currency.as_str()] { (currency) }
                            }
                        }
                    }
                    @for (name, label, _) in asked.iter().filter(|(_, _, ask)| *ask) {
                        label { (label) input name=(name) value=(value(name)); }
                    }
                    button #place type="submit" { "Place order" }
                }
                p.note { "A sandbox page: no money moves." }
            } }
        }
    }
}
