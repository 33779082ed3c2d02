//! [`Amount`]: money as decimal text, never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::wire::json_number_len;

/// An amount of money kept as its exact decimal text (`10000.00` stays
/// `10000.00`, `10000.0` stays `10000.0`): ET signs values as they were
/// transmitted, so the scale matters.
///
/// * Reads a JSON number or a JSON string holding a number (`10000.00` or
///   `"10000.00"`), keeping the text.
/// * Writes a JSON number with the same text.
/// * Converts to and from [`rust_decimal::Decimal`] with checks.
///
/// The text must follow the JSON number grammar (`-?digits[.digits][e±digits]`),
/// so it can always be written back as a JSON number. Reading is that
/// tolerant, for what ET sends; what a request may carry is stricter: its
/// [`validate`](crate::Payload::validate) refuses an amount with an
/// exponent, out of range, or with more decimal places than its currency
/// has ([`Rule`](crate::Rule)), and so does ET's side. Equality is textual:
/// `10000.00` and `10000.0` are different amounts on the wire; compare
/// [`Amount::to_decimal`] results for numeric equality.
///
/// The exact text is captured when reading JSON text (`serde_json::from_str`,
/// `from_slice`, `from_reader`). Reading from a `serde_json::Value` works too
/// but is lossy: `Value` has already turned `10000.00` into `10000.0`.
///
/// ```
/// use et_model::Amount;
/// let a: Amount = serde_json::from_str("10000.00").unwrap();
/// assert_eq!(serde_json::to_string(&a).unwrap(), "10000.00");
/// let b: Amount = serde_json::from_str("\"10000.00\"").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_decimal().unwrap().to_string(), "10000.00");
/// ```
#[derive(Clone)]
pub struct Amount(Text);

/// Amount text up to this many bytes lives inside the [`Amount`] (every
/// real amount does: `91234.50` is 8); longer text, up to [`MAX_LEN`], is
/// boxed. A 50-order answer holds 150 amounts, and an allocation for each
/// was a sixth of the time spent reading the answer's orders (D9).
const INLINE: usize = 22;

/// An amount's text, checked JSON number syntax (so ASCII).
#[derive(Clone)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

impl Text {
    /// `text` must already be amount text ([`is_amount_text`]).
    fn new(text: &str) -> Self {
        let mut bytes = [0; INLINE];
        match (bytes.get_mut(..text.len()), u8::try_from(text.len())) {
            (Some(head), Ok(len)) => {
                head.copy_from_slice(text.as_bytes());
                Text::Inline { len, bytes }
            }
            _ => Text::Boxed(text.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|text| std::str::from_utf8(text).ok())
                .unwrap_or_default(),
            Text::Boxed(text) => text,
        }
    }
}

/// Why a text or decimal is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmountError {
    /// The text is not a decimal number in JSON number syntax.
    NotANumber(String),
    /// The number does not fit a `Decimal` (28 significant digits).
    OutOfRange(String),
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::NotANumber(text) => write!(f, "amount {text:?} is not a decimal number"),
            AmountError::OutOfRange(text) => write!(f, "amount {text:?} does not fit a decimal"),
        }
    }
}

impl std::error::Error for AmountError {}

/// The largest amount a request may carry, in any currency: 10,000,000,000
/// (ten billion). ET documents no limit; this one is far above any tuition
/// or rent in any currency ET lists (IDR or VND tuitions run to hundreds of
/// millions), far below what ET's RMB conversion could overflow, and
/// refuses absurd values (`9999999999999999.99`) before they are signed.
/// Checked by every request payload's `validate()`.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0);

/// Longest amount text accepted; keeps hostile input from growing without bound.
const MAX_LEN: usize = 64;

/// Whether `text` follows the JSON number grammar.
fn is_json_number(text: &str) -> bool {
    json_number_len(text.as_bytes()) == Ok(text.len())
}

/// Whether `text` can be an amount's text as it is: a JSON number of at
/// most [`MAX_LEN`] bytes.
fn is_amount_text(text: &str) -> bool {
    text.len() <= MAX_LEN && is_json_number(text)
}

impl Amount {
    /// Parses decimal text (`"10000.00"`, `"-5"`, `"1.5e3"`); surrounding
    /// whitespace is ignored, the rest is kept exactly.
    pub fn new(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        if !is_amount_text(text) {
            return Err(AmountError::NotANumber(
                text.chars().take(MAX_LEN).collect(),
            ));
        }
        Ok(Amount(Text::new(text)))
    }

    /// The exact decimal text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The value as a [`Decimal`], keeping the scale (`10000.00` → scale 2).
    pub fn to_decimal(&self) -> Result<Decimal, AmountError> {
        let text = self.as_str();
        let parsed = match text.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => exact_scientific(mantissa, exponent),
            None => Decimal::from_str_exact(text).ok(),
        };
        parsed.ok_or_else(|| AmountError::OutOfRange(text.to_owned()))
    }

    /// The amount whose text is `value`'s canonical text (scale kept:
    /// `Decimal::new(1000000, 2)` → `10000.00`).
    pub fn from_decimal(value: Decimal) -> Self {
        // Decimal's Display is always a plain decimal of at most 30 bytes
        // (28 digits, sign, point): amount text as it is.
        Amount(Text::new(&value.to_string()))
    }

    /// An amount from the exact JSON text of a value: a number as it is,
    /// or a string holding one.
    fn from_json_text(text: &str) -> Result<Self, AmountError> {
        if let Some(quoted) = text.strip_prefix('"') {
            // A number in a string has no escapes; read it in place.
            if let Some(inner) = quoted.strip_suffix('"').filter(|s| !s.contains('\\')) {
                return Amount::new(inner);
            }
            let inner: String = serde_json::from_str(text)
                .map_err(|_| AmountError::NotANumber(text.chars().take(MAX_LEN).collect()))?;
            return Amount::new(&inner);
        }
        if is_amount_text(text) {
            return Ok(Amount(Text::new(text)));
        }
        Amount::new(text)
    }
}

/// `mantissa × 10^exponent` as a `Decimal`, or `None` unless exact.
/// (`Decimal::from_scientific` rounds a mantissa longer than 28 digits.)
fn exact_scientific(mantissa: &str, exponent: &str) -> Option<Decimal> {
    let mantissa = Decimal::from_str_exact(mantissa).ok()?;
    let mut digits = mantissa.mantissa();
    if digits == 0 {
        return Some(Decimal::ZERO);
    }
    let mut scale = i64::from(mantissa.scale()).checked_sub(exponent.parse::<i64>().ok()?)?;
    if scale < 0 {
        let shift = u32::try_from(scale.checked_neg()?).ok()?;
        digits = digits.checked_mul(10i128.checked_pow(shift)?)?;
        scale = 0;
    }
    // `1.0e-28` is exact once its trailing zero goes; at most 28 steps.
    while scale > 28 && digits % 10 == 0 {
        digits /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(digits, u32::try_from(scale).ok()?).ok()
}

impl PartialEq for Amount {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Amount {}

impl std::hash::Hash for Amount {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.as_str())
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::new(s)
    }
}

impl From<Decimal> for Amount {
    fn from(value: Decimal) -> Self {
        Amount::from_decimal(value)
    }
}

impl TryFrom<&Amount> for Decimal {
    type Error = AmountError;
    fn try_from(value: &Amount) -> Result<Self, Self::Error> {
        value.to_decimal()
    }
}

/// An amount as people read it, with its currency before it:
/// `GBP 21,000.00`. Two decimals (rounded half to even past the second),
/// a comma between thousands, a minus sign before the currency. Display
/// only: what goes on the wire is the [`Amount`]'s own text. Made by
/// [`Amount::readable`]; an amount outside [`Decimal`]'s range shows its
/// text as it is.
///
/// ```
/// use et_model::Amount;
/// let a = Amount::new("1234567.5").unwrap();
/// assert_eq!(a.readable("RMB").to_string(), "RMB 1,234,567.50");
/// assert_eq!(Amount::new("-0.125").unwrap().readable("GBP").to_string(), "-GBP 0.12");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Readable<'a> {
    amount: &'a Amount,
    currency: &'a str,
}

impl Amount {
    /// This amount as people read it, in `currency` (an ISO code such as
    /// `GBP`; empty for none): see [`Readable`].
    pub fn readable<'a>(&'a self, currency: &'a str) -> Readable<'a> {
        Readable {
            amount: self,
            currency,
        }
    }
}

impl fmt::Display for Readable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(value) = self.amount.to_decimal() else {
            return match self.currency {
                "" => f.write_str(self.amount.as_str()),
                currency => write!(f, "{currency} {}", self.amount.as_str()),
            };
        };
        let mut rounded = value.round_dp(2);
        rounded.rescale(2);
        let text = rounded.abs().to_string();
        let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
        if rounded.is_sign_negative() && !rounded.is_zero() {
            f.write_str("-")?;
        }
        if !self.currency.is_empty() {
            write!(f, "{} ", self.currency)?;
        }
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        write!(f, ".{cents}")
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written as a JSON number with this exact text: serde_json's raw
        // value, borrowed from our own text (checked JSON number syntax).
        let raw: &RawValue =
            serde_json::from_str(self.as_str()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// The name under which serde_json hands a value's exact JSON text to
/// `RawValue` (a one-entry map: this name, then the text, borrowed from
/// the input when it can be). Asking for it directly spares the
/// `Box<RawValue>` allocation per amount. Should a serde_json release
/// rename it, or another deserializer not know it, the request arrives as
/// a plain newtype and the amount is read through `Box<RawValue>`, as
/// serde_json documents: slower, never wrong (tests cover both paths).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, AmountVisitor)
    }
}

struct AmountVisitor;

impl<'de> Visitor<'de> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, or a string holding one")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Amount, A::Error> {
        match map.next_key_seed(IsToken)? {
            Some(true) => map.next_value_seed(JsonText),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<Amount, D::Error> {
        let raw = Box::<RawValue>::deserialize(inner)?;
        Amount::from_json_text(raw.get()).map_err(de::Error::custom)
    }
}

/// Whether the map's key is serde_json's raw-value name.
struct IsToken;

impl<'de> DeserializeSeed<'de> for IsToken {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for IsToken {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("serde_json's raw value")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == RAW_VALUE_TOKEN)
    }
}

/// The raw value's JSON text, read into an [`Amount`] without a copy of its own.
struct JsonText;

impl<'de> DeserializeSeed<'de> for JsonText {
    type Value = Amount;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Amount, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for JsonText {
    type Value = Amount;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value's text")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Amount, E> {
        Amount::from_json_text(text).map_err(E::custom)
    }
}

impl crate::wire::FieldValue for Amount {
    fn amount(&self) -> Option<&Amount> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_amounts_have_two_decimals_grouped_thousands_and_the_currency_first() {
        let shown =
            |text: &str, currency: &str| Amount::new(text).unwrap().readable(currency).to_string();
        assert_eq!(shown("92000", "RMB"), "RMB 92,000.00");
        assert_eq!(shown("21000.00", "CAD"), "CAD 21,000.00");
        assert_eq!(shown("999.999", "GBP"), "GBP 1,000.00");
        assert_eq!(shown("100", "GBP"), "GBP 100.00");
        assert_eq!(shown("1.5e3", ""), "1,500.00");
        assert_eq!(shown("-1234.5", "USD"), "-USD 1,234.50");
        assert_eq!(shown("-0.001", "USD"), "USD 0.00");
        assert_eq!(shown("1e40", "USD"), "USD 1e40", "out of range: as sent");
    }

    #[test]
    fn max_amount_is_ten_billion() {
        assert_eq!(MAX_AMOUNT, Decimal::from(10_000_000_000_i64));
    }

    #[test]
    fn grammar_accepts_json_numbers_only() {
        for good in ["0", "-0", "10000.00", "1.5e3", "2E-2", "0.001", "-12.30"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "+1", "1,5", "NaN", "1.0.0", " 1", "0x10",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn new_trims_and_keeps_the_rest() {
        assert_eq!(
            Amount::new(" 10000.00 ").map(|a| a.to_string()),
            Ok("10000.00".into())
        );
        assert!(matches!(
            Amount::new("ten"),
            Err(AmountError::NotANumber(_))
        ));
        assert!(Amount::new(&"9".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn decimal_conversions_keep_scale() {
        let amount = Amount::new("10000.00").unwrap();
        let decimal = amount.to_decimal().unwrap();
        assert_eq!(decimal.scale(), 2);
        assert_eq!(Amount::from_decimal(decimal), amount);
        assert_eq!(
            Amount::new("1.5e3").unwrap().to_decimal().unwrap(),
            Decimal::new(1500, 0)
        );
        let huge = Amount::new(&"9".repeat(40)).unwrap();
        assert!(matches!(huge.to_decimal(), Err(AmountError::OutOfRange(_))));
    }

    #[test]
    fn scientific_text_converts_exactly_or_not_at_all() {
        let decimal = |text: &str| Amount::new(text).unwrap().to_decimal();
        assert_eq!(decimal("1.50e2"), Ok(Decimal::new(150, 0)));
        assert_eq!(decimal("-25E-3"), Ok(Decimal::new(-25, 3)));
        assert_eq!(decimal("1.0e-28"), Ok(Decimal::new(1, 28)));
        assert_eq!(
            decimal("1e28").map(|d| d.to_string()),
            Ok(format!("1{}", "0".repeat(28)))
        );
        assert_eq!(decimal("0e-99999999999999999999"), Ok(Decimal::ZERO));
        // Would round (or overflow, or underflow) rather than convert exactly.
        for lossy in [
            "9.9999999999999999999999999999999e27",
            "1e29",
            "1e-29",
            "1e99999999999",
            "1e-9223372036854775808",
            "1e99999999999999999999",
        ] {
            assert!(
                matches!(decimal(lossy), Err(AmountError::OutOfRange(_))),
                "{lossy}"
            );
        }
    }

    #[test]
    fn reads_numbers_and_strings_writes_numbers() {
        for input in ["10000.00", "\"10000.00\"", "\" 10000.00\""] {
            let amount: Amount = serde_json::from_str(input).unwrap();
            assert_eq!(serde_json::to_string(&amount).unwrap(), "10000.00");
        }
        assert!(serde_json::from_str::<Amount>("\"12abc\"").is_err());
        assert!(serde_json::from_str::<Amount>("true").is_err());
        assert!(serde_json::from_str::<Amount>("null").is_err());
    }

    /// serde_json still asks for its raw value under the name `Amount` asks
    /// for: were it renamed, amounts would still read (through the
    /// fallback below), only with an allocation each.
    #[test]
    fn raw_value_name_is_the_one_serde_json_asks_for() {
        struct Recorder;
        impl<'de> Deserializer<'de> for Recorder {
            type Error = serde::de::value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom("not a newtype"))
            }
            fn deserialize_newtype_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                _: V,
            ) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom(name))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct seq tuple tuple_struct map
                struct enum identifier ignored_any
            }
        }
        let asked = Box::<RawValue>::deserialize(Recorder)
            .map(drop)
            .unwrap_err();
        assert_eq!(asked.to_string(), RAW_VALUE_TOKEN);
    }

    #[test]
    fn a_deserializer_without_raw_values_reads_through_box_raw_value() {
        for (json, text) in [("10000.00", "10000.00"), ("\"7.50\"", "7.50")] {
            let mut plain = serde_json::Deserializer::from_str(json);
            let amount = AmountVisitor.visit_newtype_struct(&mut plain).unwrap();
            assert_eq!(amount.as_str(), text);
        }
        let mut bad = serde_json::Deserializer::from_str("{}");
        assert!(AmountVisitor.visit_newtype_struct(&mut bad).is_err());
    }

    #[test]
    fn text_longer_than_the_inline_space_is_kept_whole() {
        for len in [INLINE - 1, INLINE, INLINE + 1, MAX_LEN] {
            let text = "9".repeat(len);
            let amount: Amount = serde_json::from_str(&text).unwrap();
            assert_eq!(amount.as_str(), text);
            assert!(matches!(amount.0, Text::Inline { .. }) == (len <= INLINE));
        }
    }

    #[test]
    fn reads_from_a_value_lossily() {
        let from_number: Amount = serde_json::from_value(serde_json::json!(10000.5)).unwrap();
        assert_eq!(from_number.as_str(), "10000.5");
        let from_string: Amount = serde_json::from_value(serde_json::json!("10000.00")).unwrap();
        assert_eq!(from_string.as_str(), "10000.00");
    }
}
