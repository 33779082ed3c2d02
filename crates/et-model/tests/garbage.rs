//! Every reader fed hostile input returns an error or a value, never a panic:
//! random bytes, and random JSON objects whose keys are the typed fields'
//! wire names with values of every JSON type (huge numbers, exponents,
//! nested containers).

use std::collections::BTreeMap;

use et_model::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;

/// A JSON value as text: scalars of every kind, containers nested twice.
fn json_value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("JSON has no NaN/inf", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "-?[0-9]{1,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,25})?",
        "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        "-?[0-9]{1,30}(\\.[0-9]{1,5})?".prop_map(|s| format!("\"{s}\"")),
    ];
    scalar.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(inner, 0..4)
                .prop_map(|v| format!("{{\"k\":{}}}", v.join(",\"k2\":"))),
        ]
    })
}

/// Every wire name a typed field uses, so random objects reach the field readers.
fn wire_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = [
        CreateOrder::FIELDS,
        FeeItem::FIELDS,
        OrderCreated::FIELDS,
        PayConfig::FIELDS,
        UploadAttachment::FIELDS,
        GetPayUrl::FIELDS,
        PayUrl::FIELDS,
        QueryOrders::FIELDS,
        OrderInfo::FIELDS,
        GetRate::FIELDS,
        Rate::FIELDS,
        EstimateAmount::FIELDS,
        Estimate::FIELDS,
        ApplyRefund::FIELDS,
        RefundAccepted::FIELDS,
        GetInstitutions::FIELDS,
        Institution::FIELDS,
        JumpPlaceOrder::FIELDS,
        JumpAddress::FIELDS,
        PaymentSuccess::FIELDS,
        OrderStatusChange::FIELDS,
        RefundResultNotice::FIELDS,
        RemittanceVoucher::FIELDS,
    ]
    .concat();
    names.push("unknown_field");
    names
}

/// A JSON object with typed-field keys (repeats allowed) and random values.
fn json_object() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(wire_names()), json_value()), 0..8).prop_map(
        |pairs| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        },
    )
}

/// Reads `input` as `T`; only a panic fails the test.
fn read<T: DeserializeOwned>(input: &[u8]) {
    let _ = serde_json::from_slice::<T>(input);
}

/// Reads `input` as every model type.
fn read_all(input: &[u8]) {
    read::<OrderStatus>(input);
    read::<AttachmentType>(input);
    read::<PayResult>(input);
    read::<RefundResult>(input);
    read::<CallbackProcess>(input);
    read::<NotifyType>(input);
    read::<ReplyCode>(input);
    read::<ServerType>(input);
    read::<CountryCode>(input);
    read::<CurrencyCode>(input);
    read::<PayType>(input);
    read::<IdType>(input);
    read::<PriceMode>(input);
    read::<FeeType>(input);
    read::<Gender>(input);
    read::<FundingSource>(input);
    read::<PayerRelationship>(input);
    read::<NoPayload>(input);
    read::<RawJson>(input);
    if let Ok(amount) = serde_json::from_slice::<Amount>(input) {
        let _ = amount.to_decimal();
    }
    read::<CreateOrder>(input);
    read::<FeeItem>(input);
    read::<OrderCreated>(input);
    read::<PayConfig>(input);
    read::<UploadAttachment>(input);
    read::<AttachmentUploaded>(input);
    read::<GetPayUrl>(input);
    read::<PayUrl>(input);
    read::<QueryOrders>(input);
    read::<OrderInfo>(input);
    read::<GetRate>(input);
    read::<Rate>(input);
    read::<EstimateAmount>(input);
    read::<Estimate>(input);
    read::<ApplyRefund>(input);
    read::<RefundAccepted>(input);
    read::<InstitutionType>(input);
    read::<InstitutionCode>(input);
    read::<GetInstitutions>(input);
    read::<Institution>(input);
    read::<JumpPlaceOrder>(input);
    read::<JumpAddress>(input);
    read::<PaymentSuccess>(input);
    read::<OrderStatusChange>(input);
    read::<RefundResultNotice>(input);
    read::<RemittanceVoucher>(input);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        read_all(&bytes);
    }

    #[test]
    fn random_values_never_panic(value in json_value()) {
        read_all(value.as_bytes());
    }

    #[test]
    fn random_objects_never_panic(object in json_object()) {
        read_all(object.as_bytes());
        // Whatever reads as an order also validates without panicking.
        if let Ok(order) = serde_json::from_str::<CreateOrder>(&object) {
            let _ = order.validate();
        }
    }

    #[test]
    fn random_amount_text_never_panics(text in "\\PC{0,80}|-?[0-9]{1,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,25})?") {
        if let Ok(amount) = Amount::new(&text) {
            // Whatever converts, converts back to the same value.
            if let Ok(decimal) = amount.to_decimal() {
                prop_assert_eq!(Amount::from_decimal(decimal).to_decimal(), Ok(decimal));
            }
        }
    }

    #[test]
    fn random_notification_fields_never_panic(
        fields in prop::collection::btree_map(
            prop::sample::select(wire_names()),
            "\\PC{0,12}|-?[0-9]{1,30}(\\.[0-9]{1,3})?|order_status_change",
            0..8,
        )
    ) {
        let fields: BTreeMap<String, String> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Ok(notification) = Notification::classify(&fields) {
            prop_assert_eq!(notification.kind(), NotificationKind::detect(&fields));
            let _ = notification.to_fields();
        }
    }
}
