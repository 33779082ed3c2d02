//! [`Amount`]: money as decimal text, never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
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
/// so it can always be written back as a JSON number. Equality is textual:
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
pub struct Amount(Box<RawValue>);

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
        RawValue::from_string(text.to_owned())
            .map(Amount)
            .map_err(|_| AmountError::NotANumber(text.to_owned()))
    }

    /// The exact decimal text.
    pub fn as_str(&self) -> &str {
        self.0.get()
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
        match RawValue::from_string(value.to_string()) {
            Ok(raw) => Amount(raw),
            // Decimal's Display is always a plain decimal, valid JSON.
            Err(_) => unreachable!("Decimal displays as a JSON number"),
        }
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

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if let Some(quoted) = text.strip_prefix('"') {
            // A number in a string has no escapes; read it in place.
            if let Some(inner) = quoted.strip_suffix('"').filter(|s| !s.contains('\\')) {
                return Amount::new(inner).map_err(serde::de::Error::custom);
            }
            let inner: String = serde_json::from_str(text).map_err(serde::de::Error::custom)?;
            return Amount::new(&inner).map_err(serde::de::Error::custom);
        }
        if is_amount_text(text) {
            return Ok(Amount(raw));
        }
        Amount::new(text).map_err(serde::de::Error::custom)
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

    #[test]
    fn reads_from_a_value_lossily() {
        let from_number: Amount = serde_json::from_value(serde_json::json!(10000.5)).unwrap();
        assert_eq!(from_number.as_str(), "10000.5");
        let from_string: Amount = serde_json::from_value(serde_json::json!("10000.00")).unwrap();
        assert_eq!(from_string.as_str(), "10000.00");
    }
}
