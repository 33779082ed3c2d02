//! The shapes a signed response or notification must have before it is
//! believed: closing the re-split of ET's sign string.
//!
//! ET's sign string is `k=v&k=v…`, sorted by key, with no escaping, so a
//! signature covers a *text*, not an object: `{"a":"1&b=2"}` and
//! `{"a":"1","b":"2"}` sign the same bytes. An attacker who can make ET sign
//! a value it chose (ET echoes `return_info`; messages and lists can echo
//! request text) can present ET's signed text split differently — e.g. ET's
//! refusal re-split into a success.
//!
//! The rule enforced here makes the object we accept the only reading of
//! the signed text that ET could have written:
//!
//! * no key contains `&` or `=` — so the first key of the text is fixed
//!   (text up to the first `=`), and every separator is a literal `&key=`;
//! * no value contains `&key` followed by `=`, `&` or its end, for any key
//!   ET may sign here (the documented keys of responses or of notifications,
//!   plus the profile's named extras) — so the separators of the accepted
//!   object are the *only* places where such a key can start. Any other
//!   reading with keys from that set can therefore only merge neighbouring
//!   pairs of ours (a value swallowing the pairs after it), never move a
//!   boundary or invent one;
//! * every key ET always sends must be present (responses: the nine
//!   documented keys and the profile's extras) — a merged reading has fewer
//!   keys than ours, so ET, which sends all of them, did not write it;
//! * unknown keys are refused — an extra key at the end (`zzz`) is how a
//!   forged split swallows the real tail;
//! * `status_code` is six digits, `count` a non-negative integer and
//!   `version` the configured one, so none of them can carry a tail.
//!
//! SECURITY.md ("Signed texts that can be re-split") gives the argument in
//! full, and what it does not cover.

use std::fmt;

use et_model::{
    NotificationKind, OrderStatusChange, PaymentSuccess, RefundResultNotice, RemittanceVoucher,
};

use crate::error::{Error, Message};
use crate::profile::Profile;
use crate::raw::UntypedObject;
use crate::sign::SIGN_KEY;

/// Every top-level key of ET's responses: the template's eight plus
/// `version`, which ET's real response carries (spec 01 §5).
pub(crate) const RESPONSE_KEYS: &[&str] = &[
    "aeskey",
    "count",
    "data",
    "extend_info",
    "message",
    "return_info",
    "sensitive_data",
    "status_code",
    "version",
];

/// Every key of a request envelope (spec 01 §4).
const REQUEST_KEYS: &[&str] = &[
    "aeskey",
    "callback_process",
    "data",
    "extend_info",
    "merchant_number",
    "return_info",
    "sensitive_data",
    "serial_number",
    "server_type",
    "sub_merchant_number",
    "version",
];

/// Which rule of the signed shape a response or notification broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeRule {
    /// The key contains `&` or `=`: the sign string cannot say where it ends.
    SeparatorInKey,
    /// The value contains `&<key>=` for a key that may be signed here: the
    /// signed text could be split at that point into another object.
    SeparatorInValue,
    /// The key is not documented for this object (nor named by the profile).
    UnknownKey,
    /// A documented key that ET always sends is absent.
    MissingKey,
    /// An optional key that sorts right after a free-text value: ET may
    /// have left it out and the text before it held `&<key>=…`, so it is
    /// accepted only when the profile names it as a key ET sends.
    Carvable,
    /// `status_code` is not six ASCII digits.
    NotSixDigits,
    /// `version` is not the configured [`Profile::version`].
    WrongVersion,
    /// `count` is not a non-negative integer.
    NotACount,
}

impl fmt::Display for ShapeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShapeRule::SeparatorInKey => "contains `&` or `=`",
            ShapeRule::SeparatorInValue => {
                "has a value containing `&` and a signed key: the signed text is ambiguous"
            }
            ShapeRule::UnknownKey => "is not a documented key",
            ShapeRule::MissingKey => "is missing",
            ShapeRule::Carvable => {
                "is optional after free text (could be carved out of it); name it in the profile"
            }
            ShapeRule::NotSixDigits => "is not six digits",
            ShapeRule::WrongVersion => "is not the configured version",
            ShapeRule::NotACount => "is not a non-negative integer",
        })
    }
}

fn refused(context: Message, key: &str, rule: ShapeRule) -> Error {
    Error::Shape {
        context,
        key: key.to_owned(),
        rule,
    }
}

/// Whether `value` holds `&key` followed by `=`, `&` or its end, for a
/// `key` that `is_signed_key` accepts: a place where another reading of the
/// signed text could start a pair. (The bare `&key` form is how the v1
/// notification rule prints an empty value.)
pub(crate) fn has_embedded_pair(value: &str, is_signed_key: impl Fn(&str) -> bool) -> bool {
    value.split('&').skip(1).any(|piece| {
        let key = piece.split_once('=').map_or(piece, |(key, _)| key);
        is_signed_key(key)
    })
}

/// The checks every signed object gets: keys without separators, values
/// without an embedded `&key=` for any key of `is_signed_key`.
fn check_pairs<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    context: Message,
    is_signed_key: impl Fn(&str) -> bool + Copy,
) -> Result<(), Error> {
    for (key, value) in pairs {
        if key.contains(['&', '=']) {
            return Err(refused(context, key, ShapeRule::SeparatorInKey));
        }
        if has_embedded_pair(value, is_signed_key) {
            return Err(refused(context, key, ShapeRule::SeparatorInValue));
        }
    }
    Ok(())
}

/// An object's `(key, text)` pairs.
fn texts(object: &UntypedObject) -> impl Iterator<Item = (&str, &str)> {
    object.iter().map(|(key, value)| (key, value.text()))
}

/// Checks a request envelope (before the merchant signs it, and on ET's
/// side after its signature verified): the same rule in the other
/// direction, so that a merchant's signed request cannot be re-split either
/// (a payload text holding `&server_type=` is refused before it is signed).
pub(crate) fn check_request(envelope: &UntypedObject) -> Result<(), Error> {
    check_pairs(texts(envelope), Message::Request, |key| {
        key == SIGN_KEY || REQUEST_KEYS.contains(&key)
    })
}

/// Checks a response whose signature verified: exactly the documented keys
/// plus the profile's extras, each present, and the value rules above.
pub(crate) fn check_response(envelope: &UntypedObject, profile: &Profile) -> Result<(), Error> {
    const CONTEXT: Message = Message::Response;
    let extras = &profile.extra_response_keys;
    let is_response_key =
        |key: &str| RESPONSE_KEYS.contains(&key) || extras.iter().any(|extra| extra == key);
    if let Some((key, _)) = envelope
        .iter()
        .find(|(key, _)| *key != SIGN_KEY && !is_response_key(key))
    {
        return Err(refused(CONTEXT, key, ShapeRule::UnknownKey));
    }
    check_pairs(texts(envelope), CONTEXT, |key| {
        key == SIGN_KEY || is_response_key(key)
    })?;
    let required = RESPONSE_KEYS
        .iter()
        .copied()
        .chain(extras.iter().map(String::as_str));
    if let Some(key) = required.clone().find(|key| envelope.get(key).is_none()) {
        return Err(refused(CONTEXT, key, ShapeRule::MissingKey));
    }
    let text = |key| envelope.text(key).unwrap_or_default();
    let status = text("status_code");
    if status.len() != 6 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused(CONTEXT, "status_code", ShapeRule::NotSixDigits));
    }
    if text("version") != profile.version {
        return Err(refused(CONTEXT, "version", ShapeRule::WrongVersion));
    }
    let count = text("count");
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused(CONTEXT, "count", ShapeRule::NotACount));
    }
    Ok(())
}

/// Whether `key` is a documented field of any notification kind: a key ET
/// may sign in a notification.
fn is_notification_field(key: &str) -> bool {
    [
        PaymentSuccess::FIELDS,
        OrderStatusChange::FIELDS,
        RefundResultNotice::FIELDS,
        RemittanceVoucher::FIELDS,
    ]
    .iter()
    .any(|fields| fields.contains(&key))
}

/// Checks a notification's `(key, text)` fields after its signature
/// verified: keys without separators, values without an embedded pair, and
/// for a known `kind` only its documented fields, `sign` and the named
/// extras. A kind this crate does not know has no documented set; its
/// fields are kept as received.
///
/// Of the optional fields, `extend_info` sorts first and a payment's
/// `pay_currency_code` follows an amount, so neither can be carved out of
/// a neighbour; a payment's `notify_type` follows the free-text
/// `extend_info` and is therefore accepted only when named as an extra.
pub(crate) fn check_notification<'a>(
    fields: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    kind: NotificationKind,
    extras: &[String],
) -> Result<(), Error> {
    const CONTEXT: Message = Message::Notification;
    let named = |key: &str| extras.iter().any(|extra| extra == key);
    check_pairs(fields.clone(), CONTEXT, |key| {
        key == SIGN_KEY || is_notification_field(key) || named(key)
    })?;
    let documented = match kind {
        NotificationKind::PaymentSuccess => PaymentSuccess::FIELDS,
        NotificationKind::OrderStatusChange => OrderStatusChange::FIELDS,
        NotificationKind::RefundResult => RefundResultNotice::FIELDS,
        NotificationKind::RemittanceVoucher => RemittanceVoucher::FIELDS,
        NotificationKind::Unknown => return Ok(()),
    };
    let mut keys = fields.map(|(key, _)| key);
    if kind == NotificationKind::PaymentSuccess
        && keys.clone().any(|key| key == "notify_type")
        && !named("notify_type")
    {
        return Err(refused(CONTEXT, "notify_type", ShapeRule::Carvable));
    }
    match keys.find(|key| *key != SIGN_KEY && !documented.contains(key) && !named(key)) {
        Some(key) => Err(refused(CONTEXT, key, ShapeRule::UnknownKey)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pairs_are_found_in_both_printed_forms() {
        let known = |key: &str| key == "status_code";
        assert!(has_embedded_pair("x&status_code=000000", known));
        assert!(has_embedded_pair("x&status_code", known));
        assert!(has_embedded_pair("&status_code&y", known));
        assert!(!has_embedded_pair("https://x/?a=1&b=2", known));
        assert!(!has_embedded_pair("status_code=1", known));
        assert!(!has_embedded_pair("x&status_codes=1", known));
    }
}
