//! The rules each `wire_struct!` declares are the rules it enforces and
//! the names it reads: every declared maximum holds at exactly `max`
//! characters and breaks at `max + 1` (any characters, multi-byte ones
//! included), and `FIELDS` names exactly the keys serde reads and writes.

mod common;

use common::{minimal_order, minimal_refund, minimal_upload};
use et_model::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The declared rules of one type.
type Rules = &'static [(&'static str, &'static [FieldRule])];

/// A valid request of each type that declares a maximum, as JSON text,
/// with the declared rules.
fn bases() -> Vec<(&'static str, String, Rules)> {
    let (order, upload, refund) = (minimal_order(), minimal_upload(), minimal_refund());
    let value = |v: &dyn erased::Json| v.json();
    vec![
        ("CreateOrder", value(&order), CreateOrder::RULES),
        (
            "JumpPlaceOrder",
            value(&JumpPlaceOrder::new("M-1", "user-1")),
            JumpPlaceOrder::RULES,
        ),
        ("GetPayUrl", value(&GetPayUrl::new("ET1")), GetPayUrl::RULES),
        ("UploadAttachment", value(&upload), UploadAttachment::RULES),
        ("ApplyRefund", value(&refund), ApplyRefund::RULES),
        (
            "QueryOrders",
            value(&QueryOrders::new(["ET1"])),
            QueryOrders::RULES,
        ),
    ]
}

/// Validates `json` read as the type named `name`.
fn validate(name: &str, json: Value) -> Result<(), ValidationError> {
    fn read<T: Payload>(json: Value) -> Result<(), ValidationError> {
        serde_json::from_value::<T>(json).unwrap().validate()
    }
    match name {
        "CreateOrder" => read::<CreateOrder>(json),
        "JumpPlaceOrder" => read::<JumpPlaceOrder>(json),
        "GetPayUrl" => read::<GetPayUrl>(json),
        "UploadAttachment" => read::<UploadAttachment>(json),
        "ApplyRefund" => read::<ApplyRefund>(json),
        "QueryOrders" => read::<QueryOrders>(json),
        other => unreachable!("no base for {other}"),
    }
}

mod erased {
    /// Object-safe serialisation, so one list holds every base.
    pub(crate) trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

/// `text` set as `field` of `base`; a list field gets it as its only item,
/// which errors name `field[0]`.
fn with(base: &Value, field: &str, text: &str) -> (Value, String) {
    let mut json = base.clone();
    if json[field].is_array() {
        json[field] = json!([text]);
        (json, format!("{field}[0]"))
    } else {
        json[field] = json!(text);
        (json, field.to_owned())
    }
}

/// Every declared maximum, with the type it belongs to.
fn maxima() -> Vec<(&'static str, Value, &'static str, usize)> {
    bases()
        .into_iter()
        .flat_map(|(name, base, rules)| {
            let base: Value = serde_json::from_str(&base).unwrap();
            rules.iter().flat_map(move |(field, rules)| {
                let base = base.clone();
                rules.iter().filter_map(move |rule| match rule {
                    FieldRule::MaxChars(max) => Some((name, base.clone(), *field, *max)),
                    _ => None,
                })
            })
        })
        .collect()
}

#[test]
fn every_type_that_declares_a_maximum_is_in_the_proptest() {
    let all: [Rules; 24] = [
        CreateOrder::RULES,
        FeeItem::RULES,
        OrderCreated::RULES,
        PayConfig::RULES,
        UploadAttachment::RULES,
        AttachmentUploaded::RULES,
        GetPayUrl::RULES,
        PayUrl::RULES,
        QueryOrders::RULES,
        OrderInfo::RULES,
        GetRate::RULES,
        Rate::RULES,
        EstimateAmount::RULES,
        Estimate::RULES,
        ApplyRefund::RULES,
        RefundAccepted::RULES,
        GetInstitutions::RULES,
        Institution::RULES,
        JumpPlaceOrder::RULES,
        JumpAddress::RULES,
        PaymentSuccess::RULES,
        OrderStatusChange::RULES,
        RefundResultNotice::RULES,
        RemittanceVoucher::RULES,
    ];
    let declared = all
        .iter()
        .flat_map(|rules| rules.iter())
        .flat_map(|(_, rules)| rules.iter())
        .filter(|rule| matches!(rule, FieldRule::MaxChars(_)))
        .count();
    assert_eq!(maxima().len(), declared);
    assert_eq!(declared, 17 + 13 + 6 + 1 + 1 + 1);
}

proptest! {
    #[test]
    fn every_declared_maximum_holds_at_max_and_breaks_one_above(
        index in any::<prop::sample::Index>(),
        fill in any::<char>().prop_filter("a blank text is the `required` rule's", |c| !c.is_whitespace()),
        last in any::<char>().prop_filter("as above", |c| !c.is_whitespace()),
    ) {
        let all = maxima();
        let (name, base, field, max) = index.get(&all);
        let text = |len: usize| {
            let mut text: String = std::iter::repeat_n(fill, len - 1).collect();
            text.push(last);
            text
        };
        let (at_max, _) = with(base, field, &text(*max));
        prop_assert_eq!(validate(name, at_max), Ok(()), "{} {} at {}", name, field, max);
        let (over, named) = with(base, field, &text(max + 1));
        prop_assert_eq!(
            validate(name, over),
            Err(ValidationError::new(named, Rule::MaxChars { max: *max, actual: max + 1 })),
            "{} {}", name, field
        );
    }
}

/// Whether `T` reads `key` as a typed field: a value no field type takes
/// (an object) is then refused as of the wrong type, whereas an unknown key
/// goes to `extra` (and at worst a required field is missing).
fn reads_as_typed<T: DeserializeOwned>(key: &str) -> bool {
    let probe = json!({ key: {"probe": []} });
    match serde_json::from_value::<T>(probe) {
        Ok(_) => false,
        Err(error) => !error.to_string().starts_with("missing field"),
    }
}

fn fields_are_the_keys_serde_reads<T: DeserializeOwned>(fields: &[&str]) {
    for field in fields {
        assert!(reads_as_typed::<T>(field), "{field} is not read as typed");
    }
    assert!(!reads_as_typed::<T>("not_a_field"));
}

#[test]
fn fields_are_exactly_the_wire_names_serde_reads() {
    fields_are_the_keys_serde_reads::<CreateOrder>(CreateOrder::FIELDS);
    fields_are_the_keys_serde_reads::<FeeItem>(FeeItem::FIELDS);
    fields_are_the_keys_serde_reads::<OrderCreated>(OrderCreated::FIELDS);
    fields_are_the_keys_serde_reads::<PayConfig>(PayConfig::FIELDS);
    fields_are_the_keys_serde_reads::<UploadAttachment>(UploadAttachment::FIELDS);
    fields_are_the_keys_serde_reads::<AttachmentUploaded>(AttachmentUploaded::FIELDS);
    fields_are_the_keys_serde_reads::<GetPayUrl>(GetPayUrl::FIELDS);
    fields_are_the_keys_serde_reads::<PayUrl>(PayUrl::FIELDS);
    fields_are_the_keys_serde_reads::<QueryOrders>(QueryOrders::FIELDS);
    fields_are_the_keys_serde_reads::<OrderInfo>(OrderInfo::FIELDS);
    fields_are_the_keys_serde_reads::<GetRate>(GetRate::FIELDS);
    fields_are_the_keys_serde_reads::<Rate>(Rate::FIELDS);
    fields_are_the_keys_serde_reads::<EstimateAmount>(EstimateAmount::FIELDS);
    fields_are_the_keys_serde_reads::<Estimate>(Estimate::FIELDS);
    fields_are_the_keys_serde_reads::<ApplyRefund>(ApplyRefund::FIELDS);
    fields_are_the_keys_serde_reads::<RefundAccepted>(RefundAccepted::FIELDS);
    fields_are_the_keys_serde_reads::<GetInstitutions>(GetInstitutions::FIELDS);
    fields_are_the_keys_serde_reads::<Institution>(Institution::FIELDS);
    fields_are_the_keys_serde_reads::<JumpPlaceOrder>(JumpPlaceOrder::FIELDS);
    fields_are_the_keys_serde_reads::<JumpAddress>(JumpAddress::FIELDS);
    fields_are_the_keys_serde_reads::<PaymentSuccess>(PaymentSuccess::FIELDS);
    fields_are_the_keys_serde_reads::<OrderStatusChange>(OrderStatusChange::FIELDS);
    fields_are_the_keys_serde_reads::<RefundResultNotice>(RefundResultNotice::FIELDS);
    fields_are_the_keys_serde_reads::<RemittanceVoucher>(RemittanceVoucher::FIELDS);
}

#[test]
fn fields_are_the_wire_names_serde_writes_in_order() {
    for (name, text, rules) in bases() {
        let written: Value = serde_json::from_str(&text).unwrap();
        let written = written.as_object().unwrap();
        // Where each declared name is written, if it is: in FIELDS order.
        let at: Vec<usize> = rules
            .iter()
            .filter_map(|(field, _)| text.find(&format!("\"{field}\":")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{name}: {text}");
        assert_eq!(at.len(), written.len(), "{name} writes a key not in FIELDS");
    }
    // `RULES` and `FIELDS` are one declaration read twice.
    let rule_names: Vec<&str> = CreateOrder::RULES.iter().map(|(f, _)| *f).collect();
    assert_eq!(rule_names, CreateOrder::FIELDS);
}
