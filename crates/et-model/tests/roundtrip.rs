//! Write → read → equal, for every code enum and every payload; plus the
//! canonical form: a second write gives the same bytes.

mod common;

use common::*;
use et_model::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Writes, reads back, checks equality and that the text is stable.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    Ok(())
}

macro_rules! round_trips {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            $(
                #[test]
                fn $name(value in $strategy) {
                    round_trip(&value)?;
                }
            )*
        }
    };
}

round_trips! {
    order_status_round_trips: order_status();
    attachment_type_round_trips: attachment_type();
    pay_result_round_trips: pay_result();
    refund_result_round_trips: refund_result();
    callback_process_round_trips: any::<i64>().prop_map(CallbackProcess::from_code);
    notify_type_round_trips: notify_type();
    status_code_round_trips: prop_oneof![Just("000000".to_owned()), Just("200003".to_owned()), "[0-9]{6}"]
        .prop_map(|c| ReplyCode::from_code(&c));
    server_type_round_trips: prop_oneof![proptest::sample::select(ServerType::ALL), "[a-z_]{1,30}"
        .prop_map(|c| ServerType::from_code(&c))];
    country_code_round_trips: country();
    currency_code_round_trips: currency();
    pay_type_round_trips: any::<i64>().prop_map(PayType);
    id_type_round_trips: any::<i64>().prop_map(IdType);
    price_mode_round_trips: any::<i64>().prop_map(PriceMode);
    fee_type_round_trips: raw_code().prop_map(FeeType);
    gender_round_trips: raw_code().prop_map(Gender);
    funding_source_round_trips: raw_code().prop_map(FundingSource);
    payer_relationship_round_trips: raw_code().prop_map(PayerRelationship);
    amount_round_trips: amount();
    create_order_round_trips: create_order();
    fee_item_round_trips: fee_item();
    order_created_round_trips: order_created();
    pay_config_round_trips: pay_config();
    upload_attachment_round_trips: upload_attachment();
    attachment_uploaded_round_trips: attachment_uploaded();
    get_pay_url_round_trips: get_pay_url();
    pay_url_round_trips: pay_url();
    query_orders_round_trips: query_orders();
    order_info_round_trips: order_info();
    get_rate_round_trips: get_rate();
    rate_round_trips: rate();
    estimate_amount_round_trips: estimate_amount();
    estimate_round_trips: estimate();
    apply_refund_round_trips: apply_refund();
    refund_accepted_round_trips: refund_accepted();
    payment_success_round_trips: payment_success();
    order_status_change_round_trips: order_status_change();
    refund_result_notice_round_trips: refund_result_notice();
    remittance_voucher_round_trips: remittance_voucher();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Integer codes read the same from `n` and `"n"`, unknown ones included.
    #[test]
    fn integer_codes_read_number_and_string_alike(code in any::<i64>()) {
        let from_number: OrderStatus = serde_json::from_str(&code.to_string()).unwrap();
        let from_string: OrderStatus = serde_json::from_str(&format!("\"{code}\"")).unwrap();
        prop_assert_eq!(from_number, from_string);
        prop_assert_eq!(from_number.code(), code);
        let kind: AttachmentType = serde_json::from_str(&format!("\"{code}\"")).unwrap();
        prop_assert_eq!(kind.code(), code);
    }

    /// An amount read as a string writes as the same number text.
    #[test]
    fn amounts_from_strings_keep_their_text(amount in amount()) {
        let quoted = serde_json::to_string(amount.as_str()).unwrap();
        let read: Amount = serde_json::from_str(&quoted).unwrap();
        prop_assert_eq!(serde_json::to_string(&read).unwrap(), amount.as_str());
    }

    /// Every way of reading JSON text keeps an amount's text exactly: a
    /// borrowed `&str`, bytes, an `io::Read` (serde_json hands those over
    /// owned), and numbers nested in a payload.
    #[test]
    fn amounts_keep_their_text_through_every_reader(amount in amount()) {
        let text = amount.as_str();
        let from_str: Amount = serde_json::from_str(text).unwrap();
        let from_slice: Amount = serde_json::from_slice(text.as_bytes()).unwrap();
        let from_reader: Amount = serde_json::from_reader(text.as_bytes()).unwrap();
        let nested: Vec<Amount> = serde_json::from_str(&format!("[ {text} ,\"{text}\"]")).unwrap();
        for read in [&from_str, &from_slice, &from_reader, &nested[0], &nested[1]] {
            prop_assert_eq!(read.as_str(), text);
        }
        prop_assert_eq!(serde_json::to_string(&from_reader).unwrap(), text);
    }

    /// Decimal → Amount → Decimal is exact and keeps the scale.
    #[test]
    fn decimal_round_trips(mantissa in any::<i64>(), scale in 0u32..10) {
        let decimal = Decimal::new(mantissa, scale);
        let amount = Amount::from(decimal);
        let back = amount.to_decimal().unwrap();
        prop_assert_eq!(back, decimal);
        prop_assert_eq!(back.scale(), scale);
    }

    /// Notifications survive `to_fields` → `classify` (the ET side writes, the merchant reads).
    #[test]
    fn notifications_survive_text_fields(n in prop_oneof![
        // A `notify_type` of order_status_change would make it a status change.
        payment_success()
            .prop_filter("not a status change", |n| n.notify_type != Some(NotifyType::OrderStatusChange))
            .prop_map(Notification::PaymentSuccess),
        refund_result_notice().prop_map(Notification::RefundResult),
        remittance_voucher().prop_map(Notification::RemittanceVoucher),
        order_status_change().prop_map(|mut n| { n.notify_type = NotifyType::OrderStatusChange; Notification::OrderStatusChange(n) }),
    ]) {
        let fields = n.to_fields();
        let back = Notification::classify(&fields).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The map-free reader gives the same result from pairs in any order.
        let pairs = fields.iter().rev().map(|(k, v)| (k.as_str(), v.as_str()));
        let from_pairs = Notification::classify_fields(pairs);
        prop_assert_eq!(from_pairs.as_ref(), Ok(&back));
        prop_assert_eq!(back.kind(), n.kind());
        prop_assert_eq!(back.to_fields(), fields);
    }
}
