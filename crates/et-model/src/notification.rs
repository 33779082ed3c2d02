//! What ET posts to the merchant: payment success (v1 and v2), order status
//! change, refund result, remittance voucher, and anything else.
//!
//! Notification values arrive as text (form bodies, or JSON the merchant
//! must not re-render), so every type here reads from strings: `"1"` for a
//! result code, `"10000.00"` for an amount. Verify the MD5 `sign` first
//! (et-proto does); a `sign` left in the fields lands in `extra`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::text_fields;
use crate::wire::{push_json_string, wire_struct};
use crate::{Amount, CurrencyCode, NotifyType, OrderStatus, PayResult, RefundResult};

wire_struct! {
    /// Payment success (v1, "legacy", and v2 share the fields; v2's page is
    /// not public, so a v2 `notify_type` is read if present).
    pub struct PaymentSuccess {
        /// ET order id.
        pub order_id: String = "order_id",
        /// Whether the payment succeeded.
        pub pay_result: PayResult = "pay_result",
        /// Amount paid, exact text (signed as sent).
        pub pay_amount: Amount = "pay_amount",
        /// Currency paid in (ET's default `RMB`).
        pub pay_currency_code: Option<CurrencyCode> = "pay_currency_code",
        /// When, `yyyy-MM-dd HH:mm:ss`, Beijing time.
        pub pay_datetime: String = "pay_datetime",
        /// Reserved.
        pub extend_info: Option<String> = "extend_info",
        /// Notification type, if ET sends one.
        pub notify_type: Option<NotifyType> = "notify_type",
    }
}

wire_struct! {
    /// Order status change (v2, doc-5683216).
    pub struct OrderStatusChange {
        /// Always `order_status_change` today.
        pub notify_type: NotifyType = "notify_type",
        /// ET order id.
        pub order_id: String = "order_id",
        /// When the status changed, `yyyy-MM-dd HH:mm:ss`, Beijing time.
        pub datetime: String = "datetime",
        /// The new status (sent as a string, read from either form).
        pub order_status: OrderStatus = "order_status",
        /// Reserved, as on every other kind's page.
        pub extend_info: Option<String> = "extend_info",
    }
}

wire_struct! {
    /// Refund result (v2, 7423552m0). Named `…Notice` because
    /// [`RefundResult`] is the code enum of its `refund_result` field.
    pub struct RefundResultNotice {
        /// ET order id.
        pub order_id: String = "order_id",
        /// The merchant's refund id (ET's order id in the "second mode").
        pub refund_order_id: String = "refund_order_id",
        /// Whether the refund succeeded.
        pub refund_result: RefundResult = "refund_result",
        /// Amount refunded, exact text.
        pub refund_amount: Amount = "refund_amount",
        /// When, `yyyy-MM-dd HH:mm:ss`.
        pub refund_datetime: String = "refund_datetime",
        /// Reserved.
        pub extend_info: Option<String> = "extend_info",
    }
}

wire_struct! {
    /// Remittance voucher (v2, 8776234m0, seed `000_…`): ET has remitted the
    /// order; the voucher PDF can be downloaded from the URL.
    pub struct RemittanceVoucher {
        /// ET order id.
        pub order_id: String = "order_id",
        /// Where to download the voucher (a PDF).
        pub remittance_voucher_url: String = "remittance_voucher_url",
        /// Reserved.
        pub extend_info: Option<String> = "extend_info",
    }
}

crate::name_enum! {
    /// Which kind a notification is; its name (`as_str`, the one table of
    /// them) is stable (dedup keys, outboxes, reports), its `Display`
    /// reads as words.
    pub enum NotificationKind ("notification kind") {
        /// [`PaymentSuccess`].
        PaymentSuccess = "payment_success" => "payment success",
        /// [`OrderStatusChange`].
        OrderStatusChange = "order_status_change" => "order status change",
        /// [`RefundResultNotice`].
        RefundResult = "refund_result" => "refund result",
        /// [`RemittanceVoucher`].
        RemittanceVoucher = "remittance_voucher" => "remittance voucher",
        /// None of the documented kinds.
        Unknown = "unknown" => "unknown notification",
    }
}

impl NotificationKind {
    /// Tells the kind from which fields are present: `notify_type` =
    /// `order_status_change`, else `refund_result`, else
    /// `remittance_voucher_url`, else `pay_result`, else unknown.
    pub fn detect(fields: &BTreeMap<String, String>) -> Self {
        Self::detect_by(|key| fields.get(key).map(String::as_str))
    }

    /// [`detect`](Self::detect) over any lookup of the text fields.
    pub fn detect_by<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Self {
        let has = |key: &str| get(key).is_some();
        let status_change = NotifyType::OrderStatusChange.as_str();
        if get("notify_type").is_some_and(|t| t.trim() == status_change) {
            NotificationKind::OrderStatusChange
        } else if has("refund_result") {
            NotificationKind::RefundResult
        } else if has("remittance_voucher_url") {
            NotificationKind::RemittanceVoucher
        } else if has("pay_result") {
            NotificationKind::PaymentSuccess
        } else {
            NotificationKind::Unknown
        }
    }
}

/// A notification, typed by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// Payment success.
    PaymentSuccess(PaymentSuccess),
    /// Order status change.
    OrderStatusChange(OrderStatusChange),
    /// Refund result.
    RefundResult(RefundResultNotice),
    /// Remittance voucher.
    RemittanceVoucher(RemittanceVoucher),
    /// A kind this version does not know: every field, as received.
    Unknown(BTreeMap<String, String>),
}

/// A notification whose fields do not fit its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationError {
    /// The kind the fields were read as.
    pub kind: NotificationKind,
    /// What was wrong (a missing field, a value that is not a code or an amount).
    pub reason: String,
}

impl fmt::Display for NotificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} notification: {}", self.kind, self.reason)
    }
}

impl std::error::Error for NotificationError {}

/// Reads one kind from the received text fields, sorted by key.
fn read<T: DeserializeOwned>(
    kind: NotificationKind,
    sorted: &[(&str, &str)],
) -> Result<T, NotificationError> {
    let error = |e: serde_json::Error| NotificationError {
        kind,
        reason: e.to_string(),
    };
    // Straight from the fields (exact, like reading JSON text, and without
    // writing any). Should that fail, reading the map's JSON form (keys
    // sorted) words the error, its position included, as it always has.
    text_fields::from_pairs(sorted)
        .or_else(|_| serde_json::from_str(&json_object(sorted)))
        .map_err(error)
}

/// `{"key":"text",…}` in one buffer sized up front.
fn json_object(pairs: &[(&str, &str)]) -> String {
    let len = pairs
        .iter()
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum::<usize>();
    let mut json = String::with_capacity(len + 2);
    json.push('{');
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        push_json_string(&mut json, key);
        json.push(':');
        push_json_string(&mut json, value);
    }
    json.push('}');
    json
}

impl Notification {
    /// Types the (already verified) received fields by kind (see
    /// [`NotificationKind::detect`]).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use et_model::{Notification, OrderStatus};
    /// let fields: BTreeMap<String, String> = [
    ///     ("notify_type", "order_status_change"), ("order_id", "ET1"),
    ///     ("datetime", "2024-12-12 10:00:00"), ("order_status", "-1"),
    /// ].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    /// let Notification::OrderStatusChange(change) = Notification::classify(&fields).unwrap()
    ///     else { panic!("not a status change") };
    /// assert_eq!(change.order_status, OrderStatus::Closed);
    /// ```
    pub fn classify(fields: &BTreeMap<String, String>) -> Result<Notification, NotificationError> {
        Self::classify_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// [`classify`](Self::classify) from `(key, text)` pairs in any order,
    /// without building a map first (the verifier's hot path). A key given
    /// twice is an error: it would make the fields ambiguous.
    ///
    /// ```
    /// use et_model::{Notification, NotificationKind};
    /// let fields = [("order_id", "ET1"), ("pay_result", "1"), ("pay_amount", "10000.00"),
    ///     ("pay_datetime", "2024-12-01 10:00:00")];
    /// let payment = Notification::classify_fields(fields).unwrap();
    /// assert_eq!(payment.kind(), NotificationKind::PaymentSuccess);
    /// assert!(Notification::classify_fields([("a", "1"), ("a", "2")]).is_err());
    /// ```
    pub fn classify_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Notification, NotificationError> {
        let mut sorted: Vec<(&str, &str)> = fields.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Self::classify_sorted(&sorted)
    }

    /// [`classify_fields`](Self::classify_fields) from pairs already sorted
    /// by key bytes (a verifier that sorted them for the signature passes
    /// them on): no copy, no sort. A key given twice, or pairs out of
    /// order, is an error.
    ///
    /// ```
    /// use et_model::{Notification, NotificationKind};
    /// let sorted = [("order_id", "ET1"), ("pay_amount", "10000.00"),
    ///     ("pay_datetime", "2024-12-01 10:00:00"), ("pay_result", "1")];
    /// let payment = Notification::classify_sorted(&sorted).unwrap();
    /// assert_eq!(payment.kind(), NotificationKind::PaymentSuccess);
    /// assert!(Notification::classify_sorted(&[("b", "1"), ("a", "2")]).is_err());
    /// ```
    pub fn classify_sorted(sorted: &[(&str, &str)]) -> Result<Notification, NotificationError> {
        let get = |key: &str| {
            let at = sorted.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
            sorted.get(at).map(|(_, v)| *v)
        };
        let kind = NotificationKind::detect_by(get);
        let unordered = sorted.windows(2).find_map(|pair| match pair {
            [(a, _), (b, _)] if a >= b => Some((*a, a == b)),
            _ => None,
        });
        if let Some((key, repeated)) = unordered {
            let reason = if repeated {
                format!("field {key:?} is given twice")
            } else {
                format!("fields out of order at {key:?}")
            };
            return Err(NotificationError { kind, reason });
        }
        Ok(match kind {
            NotificationKind::PaymentSuccess => Notification::PaymentSuccess(read(kind, sorted)?),
            NotificationKind::OrderStatusChange => {
                Notification::OrderStatusChange(read(kind, sorted)?)
            }
            NotificationKind::RefundResult => Notification::RefundResult(read(kind, sorted)?),
            NotificationKind::RemittanceVoucher => {
                Notification::RemittanceVoucher(read(kind, sorted)?)
            }
            NotificationKind::Unknown => Notification::Unknown(
                sorted
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        })
    }

    /// Which kind this is.
    pub fn kind(&self) -> NotificationKind {
        match self {
            Notification::PaymentSuccess(_) => NotificationKind::PaymentSuccess,
            Notification::OrderStatusChange(_) => NotificationKind::OrderStatusChange,
            Notification::RefundResult(_) => NotificationKind::RefundResult,
            Notification::RemittanceVoucher(_) => NotificationKind::RemittanceVoucher,
            Notification::Unknown(_) => NotificationKind::Unknown,
        }
    }

    /// The ET order id, when the notification carries one.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            Notification::PaymentSuccess(n) => Some(&n.order_id),
            Notification::OrderStatusChange(n) => Some(&n.order_id),
            Notification::RefundResult(n) => Some(&n.order_id),
            Notification::RemittanceVoucher(n) => Some(&n.order_id),
            Notification::Unknown(fields) => fields.get("order_id").map(String::as_str),
        }
    }

    /// The notification as text fields, the way ET sends them (for
    /// signing and form-encoding on the ET side): strings unquoted, numbers
    /// and amounts as their exact text. The inverse of [`classify`](Self::classify).
    pub fn to_fields(&self) -> BTreeMap<String, String> {
        let json = match self {
            Notification::PaymentSuccess(n) => serde_json::to_string(n),
            Notification::OrderStatusChange(n) => serde_json::to_string(n),
            Notification::RefundResult(n) => serde_json::to_string(n),
            Notification::RemittanceVoucher(n) => serde_json::to_string(n),
            Notification::Unknown(fields) => return fields.clone(),
        };
        json.and_then(|json| serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(&json))
            .map(|raw| raw.into_iter().map(|(k, v)| (k, raw_to_text(&v))).collect())
            .unwrap_or_default()
    }
}

/// A JSON value's text as a form field carries it: a string unquoted,
/// anything else verbatim.
fn raw_to_text(raw: &RawValue) -> String {
    serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every typed field of the four kinds.
    const KEYS: &[&str] = &[
        "order_id",
        "pay_result",
        "pay_amount",
        "pay_currency_code",
        "pay_datetime",
        "extend_info",
        "notify_type",
        "datetime",
        "order_status",
        "refund_order_id",
        "refund_result",
        "refund_amount",
        "refund_datetime",
        "remittance_voucher_url",
    ];

    /// Numbers as text, some only loosely (`" 2 "`, `01`, `1e3`).
    fn number() -> BoxedStrategy<String> {
        prop_oneof![
            prop::sample::select(vec!["1", "0", "-1", " 2 ", "10000.00", "1e3", "01"])
                .prop_map(str::to_owned),
            "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
        ]
        .boxed()
    }

    /// Empty, numeric, code-like and escape-needing text.
    fn text() -> BoxedStrategy<String> {
        prop_oneof![
            Just(String::new()),
            number(),
            Just("order_status_change".to_owned()),
            "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é中😀 ]{0,6}",
            "\\PC{0,8}",
        ]
        .boxed()
    }

    /// Text for a typed field: mostly a number where a number is wanted, so
    /// that whole notifications read successfully often enough.
    fn field(key: &str) -> BoxedStrategy<String> {
        if key.ends_with("_result") || key.ends_with("_amount") || key == "order_status" {
            prop_oneof![4 => number(), 1 => text()].boxed()
        } else {
            text()
        }
    }

    /// Each typed field mostly present, plus a few unknown keys.
    fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        let typed: Vec<_> = KEYS
            .iter()
            .map(|key| prop::option::weighted(0.85, field(key)))
            .collect();
        let unknown = prop::collection::btree_map(
            prop_oneof!["[a-z_]{1,8}", "[a-z\"\\\\\u{0}-\u{1f}é]{0,4}"],
            text(),
            0..3,
        );
        (typed, unknown).prop_map(|(typed, unknown)| {
            let known = KEYS.iter().zip(typed);
            let known = known.filter_map(|(k, v)| Some(((*k).to_owned(), v?)));
            let all: BTreeMap<String, String> = unknown.into_iter().chain(known).collect();
            all.into_iter().collect()
        })
    }

    /// Both readings of one kind agree: the same value, or both fail.
    fn same<T: DeserializeOwned + PartialEq + fmt::Debug>(
        pairs: &[(&str, &str)],
    ) -> Result<(), TestCaseError> {
        let direct = text_fields::from_pairs::<T>(pairs).ok();
        let via_json = serde_json::from_str::<T>(&json_object(pairs)).ok();
        prop_assert_eq!(direct, via_json);
        Ok(())
    }

    proptest! {
        #[test]
        fn reading_the_fields_directly_equals_reading_their_json(pairs in pairs()) {
            let pairs: Vec<(&str, &str)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            same::<PaymentSuccess>(&pairs)?;
            same::<OrderStatusChange>(&pairs)?;
            same::<RefundResultNotice>(&pairs)?;
            same::<RemittanceVoucher>(&pairs)?;
        }
    }
}
