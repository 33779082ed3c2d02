//! The [`Payload`] and [`Operation`] traits, [`NoPayload`], [`Placement`]
//! and the validation rules shared by every payload.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{Amount, ServerType, MAX_AMOUNT};

/// A business payload: what goes (as JSON) into an envelope's `data` or
/// `sensitive_data`, or one item of a response list.
pub trait Payload: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq {
    /// Checks the documented limits (maximum lengths, required fields).
    /// Returns the first broken rule.
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

/// One ET operation: the request type, where its fields go, and what comes back.
pub trait Operation: Payload {
    /// `server_type` used unless et-proto's `Profile` overrides it.
    const SERVER_TYPE: ServerType;
    /// Goes, as a JSON string, to the envelope's `data`.
    type Data: Payload;
    /// Goes, encrypted, to the envelope's `sensitive_data`.
    type Sensitive: Payload;
    /// One item of the response lists.
    type Output: Payload;
    /// Which response list carries the items (tolerant readers look in both).
    const OUTPUT_IN: Placement;
    /// What a copy of this request does at ET: whether a transport may send
    /// it again when it cannot tell if ET received the first.
    const EFFECT: Effect;
    /// The request split into its `data` and `sensitive_data` parts.
    fn parts(&self) -> (&Self::Data, &Self::Sensitive);
    /// The request rebuilt from its two parts (the ET side's view).
    fn from_parts(data: Self::Data, sensitive: Self::Sensitive) -> Self;
}

/// What one copy of an operation's request does at ET, which decides
/// whether it may be sent again when the first copy's fate is unknown (a
/// reply lost after the connection was made, a proxy that duplicated it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Changes nothing: queries, rates, estimates, the institution
    /// directory. Any number of copies is one answer.
    ReadOnly,
    /// Sets a state that a second copy sets again to the same values (the
    /// payment address with its URLs).
    Idempotent,
    /// Creates something each time (an order, an attachment, a refund, a
    /// jump order): a second copy may create a second one, unless ET
    /// refuses it by a key of its own.
    Creates,
}

impl Effect {
    /// Whether a copy may be sent again without a second side effect.
    pub fn is_repeatable(self) -> bool {
        self != Effect::Creates
    }
}

/// Which envelope field a payload travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// `data`: plain JSON.
    Data,
    /// `sensitive_data`: AES-encrypted JSON.
    Sensitive,
}

/// The empty payload: writes `{}`; reads `{}`, `[]`, `""` or `null`
/// (ET's pages show all four for an unused part).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoPayload;

/// A reference to the empty payload, for [`Operation::parts`].
pub(crate) const NO_PAYLOAD: &NoPayload = &NoPayload;

impl Serialize for NoPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

/// Accepts only the empty shapes; anything with content is an error, so a
/// misplaced field is noticed rather than dropped.
struct NoPayloadVisitor;

impl<'de> Visitor<'de> for NoPayloadVisitor {
    type Value = NoPayload;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an empty payload: {}, [], \"\" or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<NoPayload, E> {
        Ok(NoPayload)
    }
    fn visit_none<E: de::Error>(self) -> Result<NoPayload, E> {
        Ok(NoPayload)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NoPayload, E> {
        if v.trim().is_empty() {
            Ok(NoPayload)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<NoPayload, A::Error> {
        match map.next_key::<de::IgnoredAny>()? {
            None => Ok(NoPayload),
            Some(_) => Err(de::Error::invalid_length(1, &self)),
        }
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NoPayload, A::Error> {
        match seq.next_element::<de::IgnoredAny>()? {
            None => Ok(NoPayload),
            Some(_) => Err(de::Error::invalid_length(1, &self)),
        }
    }
}

impl<'de> Deserialize<'de> for NoPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoPayloadVisitor)
    }
}

impl Payload for NoPayload {}

/// A broken payload rule: which field, which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The field's wire name; items of a list read `fee_type_list[1].fee_type_desc`.
    pub field: String,
    /// The rule it broke.
    pub rule: Rule,
}

/// A rule a payload field must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The field is required and was empty.
    Required,
    /// The field is longer than ET allows (see [`limits`](crate::limits)).
    /// Lengths count Unicode scalar values (characters), not bytes.
    MaxChars {
        /// The documented maximum.
        max: usize,
        /// The length found.
        actual: usize,
    },
    /// The amount must be more than zero (what is paid, estimated or refunded).
    NotPositive,
    /// The amount must not be negative (fees, which may be zero).
    Negative,
    /// The amount is above [`MAX_AMOUNT`] (or too long to be a decimal at all).
    AboveMaximum,
    /// The amount is written with an exponent (`1e2`, `1e-27`): ET's side
    /// reads amounts as plain decimal text, and an exponent hides how
    /// small or large the value is.
    Exponent,
    /// The amount has more decimal places than its currency has (see
    /// [`CurrencyCode::decimal_places`](crate::CurrencyCode::decimal_places)):
    /// `0.001` GBP, `100.5` JPY.
    TooManyDecimals {
        /// The currency's decimal places.
        max: u32,
        /// The decimal places found.
        actual: u32,
    },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => f.write_str("is required and must not be empty"),
            Rule::MaxChars { max, actual } => {
                write!(f, "must be at most {max} characters (has {actual})")
            }
            Rule::NotPositive => f.write_str("must be more than 0"),
            Rule::Negative => f.write_str("must not be negative"),
            Rule::AboveMaximum => write!(f, "must be at most {MAX_AMOUNT}"),
            Rule::Exponent => f.write_str("must be plain decimal digits, without an exponent"),
            Rule::TooManyDecimals { max, actual } => write!(
                f,
                "must have at most {max} decimal places, as its currency has (has {actual})"
            ),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}` {}", self.field, self.rule)
    }
}

impl std::error::Error for ValidationError {}

impl ValidationError {
    /// The error for `field` breaking `rule`.
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        ValidationError {
            field: field.into(),
            rule,
        }
    }

    /// Prefixes the field with its list position (`fee_type_list[1].`).
    pub(crate) fn within(self, list: &str, index: usize) -> Self {
        ValidationError::new(format!("{list}[{index}].{}", self.field), self.rule)
    }
}

/// A text field for the length table: its wire name, value and maximum.
pub(crate) type LenRule<'a> = (&'static str, Option<&'a str>, usize);

/// Checks one length rule; lengths in characters, absent values pass.
pub(crate) fn check_len((field, value, max): LenRule<'_>) -> Result<(), ValidationError> {
    match value.map(|v| v.chars().count()) {
        Some(actual) if actual > max => {
            Err(ValidationError::new(field, Rule::MaxChars { max, actual }))
        }
        _ => Ok(()),
    }
}

/// Whether an amount may be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmountSign {
    /// More than zero: what is paid, estimated or refunded.
    Positive,
    /// Zero or more: a fee.
    NonNegative,
}

/// Checks one amount (absent passes): at most [`MAX_AMOUNT`], within the
/// sign rule, written without an exponent, and with at most `places`
/// decimal places. The one rule every amount a request carries follows, on
/// our side and on ET's (the sandbox validates each request it reads).
/// Errors name the field, never the value.
pub(crate) fn check_amount(
    field: &'static str,
    amount: Option<&Amount>,
    sign: AmountSign,
    places: u32,
) -> Result<(), ValidationError> {
    let Some(amount) = amount else {
        return Ok(());
    };
    let value = amount
        .to_decimal()
        .map_err(|_| ValidationError::new(field, Rule::AboveMaximum))?;
    let broken = if value > MAX_AMOUNT {
        Some(Rule::AboveMaximum)
    } else if sign == AmountSign::Positive && value <= rust_decimal::Decimal::ZERO {
        Some(Rule::NotPositive)
    } else if value.is_sign_negative() && !value.is_zero() {
        Some(Rule::Negative)
    } else if amount.as_str().contains(['e', 'E']) {
        Some(Rule::Exponent)
    } else if value.scale() > places {
        // Without an exponent, the scale is the count of digits after the point.
        Some(Rule::TooManyDecimals {
            max: places,
            actual: value.scale(),
        })
    } else {
        None
    };
    broken.map_or(Ok(()), |rule| Err(ValidationError::new(field, rule)))
}

/// Checks that each required text field is non-empty.
pub(crate) fn check_required<'a>(
    fields: impl IntoIterator<Item = (&'static str, &'a str)>,
) -> Result<(), ValidationError> {
    fields.into_iter().try_for_each(|(field, value)| {
        if value.trim().is_empty() {
            Err(ValidationError::new(field, Rule::Required))
        } else {
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_payload_reads_the_empty_shapes_only() {
        for empty in ["{}", "[]", "\"\"", "null", "{ }"] {
            assert_eq!(
                serde_json::from_str::<NoPayload>(empty).unwrap(),
                NoPayload,
                "{empty}"
            );
        }
        for full in ["{\"a\":1}", "[1]", "\"x\"", "0"] {
            assert!(serde_json::from_str::<NoPayload>(full).is_err(), "{full}");
        }
        assert_eq!(serde_json::to_string(&NoPayload).unwrap(), "{}");
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert_eq!(check_len(("name_ch", Some(&"张".repeat(20)), 20)), Ok(()));
        let error = check_len(("name_ch", Some(&"张".repeat(21)), 20)).unwrap_err();
        assert_eq!(
            error.rule,
            Rule::MaxChars {
                max: 20,
                actual: 21
            }
        );
        assert_eq!(
            error.to_string(),
            "field `name_ch` must be at most 20 characters (has 21)"
        );
        assert_eq!(check_len(("name_ch", None, 0)), Ok(()));
    }

    #[test]
    fn amounts_must_be_plain_in_range_and_errors_name_the_field_only() {
        let amount = |text: &str| Amount::new(text).unwrap();
        let check =
            |text: &str, sign, places| check_amount("tuituon", Some(&amount(text)), sign, places);
        for good in ["0.01", "10000.00", "10000000000", "10000000000.00"] {
            assert_eq!(check(good, AmountSign::Positive, 2), Ok(()), "{good}");
        }
        assert_eq!(check("0", AmountSign::NonNegative, 2), Ok(()));
        assert_eq!(check("-0.00", AmountSign::NonNegative, 2), Ok(()));
        assert_eq!(check("100", AmountSign::Positive, 0), Ok(()));
        assert_eq!(check("1.005", AmountSign::Positive, 3), Ok(()));
        let too_many = |max, actual| Rule::TooManyDecimals { max, actual };
        for (text, sign, places, rule) in [
            ("0", AmountSign::Positive, 2, Rule::NotPositive),
            ("0.00", AmountSign::Positive, 2, Rule::NotPositive),
            ("-1000.00", AmountSign::Positive, 2, Rule::NotPositive),
            ("-0.01", AmountSign::NonNegative, 2, Rule::Negative),
            (
                "10000000000.01",
                AmountSign::Positive,
                2,
                Rule::AboveMaximum,
            ),
            (
                "9999999999999999.99",
                AmountSign::NonNegative,
                2,
                Rule::AboveMaximum,
            ),
            ("1e99999", AmountSign::Positive, 2, Rule::AboveMaximum),
            ("1e2", AmountSign::Positive, 2, Rule::Exponent),
            ("1E-2", AmountSign::Positive, 2, Rule::Exponent),
            ("1e-27", AmountSign::Positive, 2, Rule::Exponent),
            ("0.001", AmountSign::Positive, 2, too_many(2, 3)),
            ("10.000", AmountSign::NonNegative, 2, too_many(2, 3)),
            ("100.5", AmountSign::Positive, 0, too_many(0, 1)),
        ] {
            let error = check(text, sign, places).unwrap_err();
            assert_eq!(error, ValidationError::new("tuituon", rule), "{text}");
            // (`0` is in "more than 0": only longer texts can show a leak.)
            assert!(
                text.len() < 2 || !error.to_string().contains(text),
                "{error}"
            );
        }
        assert_eq!(check_amount("fee", None, AmountSign::Positive, 2), Ok(()));
    }

    #[test]
    fn required_rejects_blank() {
        let error = check_required([("order_id", " ")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "field `order_id` is required and must not be empty"
        );
        assert_eq!(error.within("list", 2).field, "list[2].order_id");
    }
}
