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
//! ET adds keys without telling anyone, so a reader cannot insist on
//! exactly the documented ones (that is [`Profile::exact_keys`]). The rule
//! enforced here makes every reading of the signed text that we accept
//! agree with the one ET signed on each field we act on:
//!
//! * no key contains `&` or `=` — so every boundary is at a `&`, and the
//!   first key is the text up to the first `=`;
//! * no value contains `&key` followed by `=`, `&` or its end, for a
//!   documented or named key — so each such key ET sent is read from ET's
//!   own separator;
//! * the acted reply keys are present and their values can neither hold a
//!   tail nor be cut short (six-digit `status_code`, digits in `count`,
//!   Base64, one JSON value), and nothing unnamed sorts right after the
//!   echoed `return_info`;
//! * a notification of a known kind carries no field of another kind, no
//!   `&` in a field we act on, and no optional acted field that could be
//!   carved out of the text before it.
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

/// The response keys whose values we act on. ET's response template
/// documents each, so ET sends each; each must be present, and each is read
/// from ET's own separator and cannot hold a tail (SECURITY.md).
pub(crate) const ACTED_RESPONSE_KEYS: &[&str] = &[
    "aeskey",
    "count",
    "data",
    "return_info",
    "sensitive_data",
    "status_code",
];

/// Fields every notification kind may carry: `extend_info` (reserved, on
/// every kind's page) and `notify_type` (v2's type field).
const COMMON_NOTIFICATION_FIELDS: &[&str] = &["extend_info", "notify_type"];

/// Which rule of the signed shape a response or notification broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeRule {
    /// The key contains `&` or `=`: the sign string cannot say where it ends.
    SeparatorInKey,
    /// The value contains `&<key>=` for a key that may be signed here: the
    /// signed text could be split at that point into another object.
    SeparatorInValue,
    /// The key is not documented for this object (nor named by the
    /// profile), and either [`Profile::exact_keys`] is on or its value
    /// holds a signed separator (a key that swallowed ET's real tail).
    UnknownKey,
    /// A documented key that ET always sends is absent.
    MissingKey,
    /// A key that could be carved out of the free text sorted before it:
    /// an optional notification field after free text, or an unknown
    /// response key between `return_info` and `sensitive_data`. Accepted
    /// only when the profile names it.
    Carvable,
    /// `status_code` is not six ASCII digits.
    NotSixDigits,
    /// `version` is not the configured [`Profile::version`].
    WrongVersion,
    /// `count` is not a non-negative integer.
    NotACount,
    /// `aeskey` (or encrypted `sensitive_data`) holds a character Base64
    /// never has, so it could have swallowed a neighbour.
    NotBase64,
    /// `data` (or plain `sensitive_data`) is neither empty nor one JSON
    /// value, so it could be a piece of ET's text cut short or run long.
    NotOneJsonValue,
    /// A field we act on holds `&`, which ET never writes there.
    Ampersand,
    /// A field documented for another notification kind only.
    OtherKindsField,
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
                "could be carved out of the free text before it; name it in the profile"
            }
            ShapeRule::NotSixDigits => "is not six digits",
            ShapeRule::WrongVersion => "is not the configured version",
            ShapeRule::NotACount => "is not a non-negative integer",
            ShapeRule::NotBase64 => "is not Base64 text",
            ShapeRule::NotOneJsonValue => "is neither empty nor one JSON value",
            ShapeRule::Ampersand => "holds `&`, which ET never writes in it",
            ShapeRule::OtherKindsField => "belongs to another kind of notification",
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
    // Most values hold no `&`: one byte scan, no splitting.
    has_byte(value, b'&')
        && value.split('&').skip(1).any(|piece| {
            let key = piece.split_once('=').map_or(piece, |(key, _)| key);
            is_signed_key(key)
        })
}

/// Whether `text` holds the ASCII `byte`, compared as bytes: cheaper than a
/// `char` pattern, and the same answer (no other UTF-8 sequence holds an
/// ASCII byte).
fn has_byte(text: &(impl AsRef<[u8]> + ?Sized), byte: u8) -> bool {
    has_any(text.as_ref(), [byte])
}

/// Whether a key holds `&` or `=`, the sign string's separators (one scan).
fn has_separator(key: &(impl AsRef<[u8]> + ?Sized)) -> bool {
    has_any(key.as_ref(), [b'&', b'='])
}

/// Whether `text` holds any of the ASCII `bytes`. Eight bytes are tested at
/// a time, inline: the short keys and values of a notification cost less
/// so than a `memchr` call each.
fn has_any<const N: usize>(text: &[u8], bytes: [u8; N]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = text.chunks_exact(8);
    // A byte of `x` is zero exactly where the word held `byte`; the test
    // below is non-zero if and only if some byte of `x` is zero.
    let found = words.by_ref().any(|word| {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        bytes.iter().fold(false, |seen, byte| {
            let x = word ^ (ONES * u64::from(*byte));
            seen | (x.wrapping_sub(ONES) & !x & HIGHS != 0)
        })
    });
    // The tail byte by byte, inline (`contains` would call `memchr`).
    found
        || words
            .remainder()
            .iter()
            .fold(false, |seen, b| seen | bytes.iter().any(|byte| b == byte))
}

/// The checks every signed object gets: keys without separators, values
/// without an embedded `&key=` for any key of `is_signed_key`. `Ok(true)`
/// when some value holds `&` (so that later checks for `&` can be skipped
/// when none does).
fn check_pairs<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    context: Message,
    is_signed_key: impl Fn(&str) -> bool + Copy,
) -> Result<bool, Error> {
    let mut ampersand = false;
    for (key, value) in pairs {
        if has_separator(key) {
            return Err(refused(context, key, ShapeRule::SeparatorInKey));
        }
        if has_byte(value, b'&') {
            ampersand = true;
            if has_embedded_pair(value, is_signed_key) {
                return Err(refused(context, key, ShapeRule::SeparatorInValue));
            }
        }
    }
    Ok(ampersand)
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
    .map(drop)
}

/// Checks a response whose signature verified, so that every field we act
/// on ([`ACTED_RESPONSE_KEYS`]) reads as ET signed it, whatever keys ET
/// added (SECURITY.md gives the argument):
///
/// * keys without separators; no value holds `&k=` for a documented or
///   named key `k` (an unknown key that does is refused as
///   [`ShapeRule::UnknownKey`]: it swallowed ET's tail);
/// * every acted key present (with [`Profile::exact_keys`], every
///   documented key, and no other);
/// * no acted value can hold a tail or be a cut-short piece: six-digit
///   `status_code`, digits in `count`, Base64 `aeskey` (and `sensitive_data`
///   when encrypted), `data` (and plain `sensitive_data`) empty or one JSON
///   value;
/// * no unnamed key between `return_info` (an echo of request text) and
///   `sensitive_data`, where it could be cut out of the echo.
pub(crate) fn check_response(envelope: &UntypedObject, profile: &Profile) -> Result<(), Error> {
    const CONTEXT: Message = Message::Response;
    let named = |key: &str| profile.extra_response_keys.iter().any(|extra| extra == key);
    let known = |key: &str| key == SIGN_KEY || RESPONSE_KEYS.contains(&key) || named(key);
    for (key, value) in texts(envelope) {
        let unknown = !known(key);
        if unknown && profile.exact_keys {
            return Err(refused(CONTEXT, key, ShapeRule::UnknownKey));
        }
        if has_separator(key) {
            return Err(refused(CONTEXT, key, ShapeRule::SeparatorInKey));
        }
        if has_embedded_pair(value, known) {
            let rule = if unknown {
                ShapeRule::UnknownKey
            } else {
                ShapeRule::SeparatorInValue
            };
            return Err(refused(CONTEXT, key, rule));
        }
        if unknown && key > "return_info" && key < "sensitive_data" {
            return Err(refused(CONTEXT, key, ShapeRule::Carvable));
        }
    }
    let always: &[&str] = if profile.exact_keys {
        RESPONSE_KEYS
    } else {
        ACTED_RESPONSE_KEYS
    };
    let version_required = profile.require_version.then_some("version");
    let required = always
        .iter()
        .copied()
        .chain(version_required)
        .chain(profile.extra_response_keys.iter().map(String::as_str));
    for key in required {
        if envelope.get(key).is_none() {
            return Err(refused(CONTEXT, key, ShapeRule::MissingKey));
        }
    }
    check_response_values(envelope, profile)
}

/// The value rules of [`check_response`] for the acted keys and `version`.
fn check_response_values(envelope: &UntypedObject, profile: &Profile) -> Result<(), Error> {
    const CONTEXT: Message = Message::Response;
    let text = |key| envelope.text(key).unwrap_or_default();
    let digits = |value: &str| !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let status = text("status_code");
    if status.len() != 6 || !digits(status) {
        return Err(refused(CONTEXT, "status_code", ShapeRule::NotSixDigits));
    }
    if profile.require_version && text("version") != profile.version {
        return Err(refused(CONTEXT, "version", ShapeRule::WrongVersion));
    }
    if !digits(text("count")) {
        return Err(refused(CONTEXT, "count", ShapeRule::NotACount));
    }
    let aeskey = text("aeskey");
    if !is_base64_text(aeskey) {
        return Err(refused(CONTEXT, "aeskey", ShapeRule::NotBase64));
    }
    if !is_empty_or_json(text("data")) {
        return Err(refused(CONTEXT, "data", ShapeRule::NotOneJsonValue));
    }
    let sensitive = text("sensitive_data");
    match aeskey.is_empty() {
        true if !is_empty_or_json(sensitive) => Err(refused(
            CONTEXT,
            "sensitive_data",
            ShapeRule::NotOneJsonValue,
        )),
        false if !is_base64_text(sensitive) => {
            Err(refused(CONTEXT, "sensitive_data", ShapeRule::NotBase64))
        }
        _ => Ok(()),
    }
}

/// Base64 letters, padding and the line breaks some encoders insert: no
/// `&`, so the value cannot run into its neighbour.
fn is_base64_text(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n'))
}

/// Empty, or exactly one JSON value (whitespace around it allowed): a
/// piece of ET's text cut inside a JSON string, or run on past the value's
/// end into `&key=…`, is neither.
fn is_empty_or_json(value: &str) -> bool {
    value.trim().is_empty() || serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok()
}

/// The documented fields of a known notification kind (`None` for
/// [`NotificationKind::Unknown`]).
fn documented_fields(kind: NotificationKind) -> Option<&'static [&'static str]> {
    match kind {
        NotificationKind::PaymentSuccess => Some(PaymentSuccess::FIELDS),
        NotificationKind::OrderStatusChange => Some(OrderStatusChange::FIELDS),
        NotificationKind::RefundResult => Some(RefundResultNotice::FIELDS),
        NotificationKind::RemittanceVoucher => Some(RemittanceVoucher::FIELDS),
        NotificationKind::Unknown => None,
    }
}

/// Whether `key` is documented for `kind` (nothing is for an unknown kind).
pub(crate) fn is_documented_for(kind: NotificationKind, key: &str) -> bool {
    documented_fields(kind).is_some_and(|fields| is_in(key.as_bytes(), fields))
}

/// Whether `key` is a documented field of any notification kind: a key ET
/// may sign in a notification.
fn is_notification_field(key: &[u8]) -> bool {
    NotificationKind::ALL
        .into_iter()
        .filter_map(documented_fields)
        .any(|fields| is_in(key, fields))
}

/// Whether `key` is one of `keys`, compared as bytes.
fn is_in(key: &[u8], keys: &[&str]) -> bool {
    keys.iter().any(|known| known.as_bytes() == key)
}

/// Checks a notification's `(key, text)` fields after its signature
/// verified, so that its kind and every field we act on read as ET signed
/// them (SECURITY.md):
///
/// * keys without separators, values without an embedded `&field=` for a
///   documented or named field;
/// * for a known `kind`: no field documented only for another kind (so the
///   kind cannot change), no `&` in a field we act on (ids, codes,
///   amounts, times), and no field that could be carved out of the text
///   before it (a payment's `notify_type` after `extend_info`;
///   `pay_currency_code` anywhere but right after `pay_amount`; an added
///   field after a voucher's URL) unless named;
/// * with `exact`, no field outside the kind's documented set and the
///   named extras.
///
/// Fields ET adds are otherwise kept. A kind this crate does not know has
/// no documented set; its fields are kept as received. The sorted fields
/// come as bytes (as they are hashed: no check of where characters begin).
///
/// `separator_free` says the caller knows that no key and no text holds `&`
/// or `=` (the plain JSON reader stopped on neither in any string): the
/// per-field scans for them, which could then find nothing, are skipped.
pub(crate) fn check_notification<'a>(
    received: impl Iterator<Item = (&'a str, &'a str)>,
    sorted: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    kind: NotificationKind,
    extras: &[String],
    exact: bool,
    separator_free: bool,
) -> Result<(), Error> {
    const CONTEXT: Message = Message::Notification;
    let named = |key: &[u8]| extras.iter().any(|extra| extra.as_bytes() == key);
    let ampersand = !separator_free
        && check_pairs(received, CONTEXT, |key| {
            let key = key.as_bytes();
            key == SIGN_KEY.as_bytes() || is_notification_field(key) || named(key)
        })?;
    let Some(documented) = documented_fields(kind) else {
        return Ok(());
    };
    // In the sign string's order, `sign` left out as it leaves it out.
    let mut before: Option<&[u8]> = None;
    for (key, value) in sorted.filter(|(key, _)| *key != SIGN_KEY.as_bytes()) {
        let documented = is_in(key, documented);
        let rule = if named(key) {
            None
        } else if exact && !documented {
            Some(ShapeRule::UnknownKey)
        } else if carvable(kind, key, before, documented) {
            Some(ShapeRule::Carvable)
        } else if !documented
            && is_notification_field(key)
            && !is_in(key, COMMON_NOTIFICATION_FIELDS)
        {
            Some(ShapeRule::OtherKindsField)
        } else if ampersand && documented && is_acted_field(key) && has_byte(value, b'&') {
            Some(ShapeRule::Ampersand)
        } else {
            None
        };
        if let Some(rule) = rule {
            return Err(refused(CONTEXT, &String::from_utf8_lossy(key), rule));
        }
        before = Some(key);
    }
    Ok(())
}

/// A notification field that never holds `&`: every documented field but
/// the free text (`extend_info`) and the voucher's URL (guarded by
/// [`carvable`] instead).
fn is_acted_field(key: &[u8]) -> bool {
    !matches!(key, b"extend_info" | b"remittance_voucher_url")
}

/// A field that could have been carved out of the value sorted before it
/// while reading the one we act on differently: a payment's `notify_type`
/// always (it follows the free-text `extend_info`) and its
/// `pay_currency_code` unless right after `pay_amount` (an amount holds no
/// `&`); in a voucher, any undocumented field after the URL (which may
/// hold `&`, so the URL could be cut short there, or run on into it).
fn carvable(kind: NotificationKind, key: &[u8], before: Option<&[u8]>, documented: bool) -> bool {
    match kind {
        NotificationKind::PaymentSuccess => match key {
            b"notify_type" => true,
            b"pay_currency_code" => before != Some(b"pay_amount"),
            _ => false,
        },
        NotificationKind::RemittanceVoucher => {
            !documented && key > b"remittance_voucher_url".as_slice()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn has_byte_finds_a_byte_wherever_it_is(text in "[a-z&=é]{0,40}") {
            for byte in [b'&', b'=', b'a'] {
                proptest::prop_assert_eq!(has_byte(&text, byte), text.as_bytes().contains(&byte));
            }
            proptest::prop_assert_eq!(has_separator(&text), text.contains(['&', '=']));
        }
    }

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
