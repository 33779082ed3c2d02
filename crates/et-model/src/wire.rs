//! The machinery every payload type shares: unknown-field pass-through
//! ([`Extra`], [`RawJson`]) and the `wire_struct!` macro that declares a
//! payload struct together with its order-preserving, scale-preserving serde
//! implementations.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::payload::{check_amount, check_len, check_required, AmountSign, ValidationError};
use crate::{Amount, CurrencyCode, DEFAULT_DECIMAL_PLACES};

/// One JSON value kept as its exact wire text (`10000.00` stays `10000.00`,
/// whitespace inside objects included).
///
/// Two values are equal when their texts are equal.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Wraps `text` after checking that it is one valid JSON value.
    pub fn new(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text.into()).map(RawJson)
    }

    /// Serialises `value` to JSON and wraps the result.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(RawJson)
    }

    /// The exact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Reads the value as `T` from its exact text.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(RawJson)
    }
}

/// Fields a payload does not know, by wire name, each kept as raw JSON and
/// written back verbatim, so a field ET adds tomorrow is not lost.
///
/// On write, a key equal to one of the payload's typed fields is skipped
/// (the typed field wins), so the output never holds a key twice.
pub type Extra = BTreeMap<String, RawJson>;

/// Appends `text` to `out` as a JSON string literal. Text with nothing to
/// escape (the usual case) is copied as is between quotes; the rest is
/// escaped by serde_json. Shared with et-proto, whose envelopes are written
/// the same way.
pub fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < b' ') {
        // Serializing a &str to JSON cannot fail.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Reads the JSON number (`-?int[.frac][e±exp]`) at the start of `bytes`
/// and returns its length, or the offset and the reason where it breaks the
/// grammar. Reading stops at the first byte that cannot continue the number
/// (`01` reads as `0`, length 1), so a caller that needs all of `bytes` to
/// be one number compares the length with `bytes.len()`. Shared with
/// et-proto's envelope reader.
pub fn json_number_len(bytes: &[u8]) -> Result<usize, (usize, &'static str)> {
    // Digits from position `from` on; no indexing, so no panic path.
    let digits = |from: usize| {
        bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return Err((i, "bad number")),
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        match digits(i) {
            0 => return Err((i, "bad number: digits expected after '.'")),
            frac => i += frac,
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        match digits(i) {
            0 => return Err((i, "bad number: digits expected in exponent")),
            exp => i += exp,
        }
    }
    Ok(i)
}

/// A map key, borrowed from the input when the deserializer allows it
/// (serde_json does for keys without escapes): matching a key against the
/// typed fields then costs no allocation.
pub(crate) struct WireKey<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for WireKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = WireKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(WireKey(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
                Ok(WireKey(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Self::Value, E> {
                Ok(WireKey(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// How a payload field behaves when it is absent (`Option` fields are
/// skipped on write and read as `None`; every other field is required), and
/// what the rules `wire_struct!` declares read from it: its text, its
/// amount, its currency, its items. A type without text, amount or items
/// passes those rules.
pub(crate) trait FieldValue: Sized {
    fn is_absent(&self) -> bool {
        false
    }
    fn when_missing() -> Option<Self> {
        None
    }
    /// The texts the `required` and `max` rules check, each with its
    /// position when the field is a list.
    fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        std::iter::empty()
    }
    /// The amount the `positive` and `non_negative` rules check.
    fn amount(&self) -> Option<&Amount> {
        None
    }
    /// The currency an amount of the same payload is in, when this field
    /// names one (see [`FieldRule::Currency`]).
    fn currency(&self) -> Option<&CurrencyCode> {
        None
    }
    /// What the `items` rule checks: the value as one list item.
    fn validate_item(&self) -> Result<(), ValidationError> {
        Ok(())
    }
    /// What the `items` rule checks: every item, named by its position.
    fn validate_items(&self, _wire: &str) -> Result<(), ValidationError> {
        Ok(())
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
    fn when_missing() -> Option<Self> {
        Some(None)
    }
    fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        self.iter().flat_map(T::texts)
    }
    fn amount(&self) -> Option<&Amount> {
        self.as_ref().and_then(T::amount)
    }
    fn currency(&self) -> Option<&CurrencyCode> {
        self.as_ref().and_then(T::currency)
    }
    fn validate_items(&self, wire: &str) -> Result<(), ValidationError> {
        self.as_ref()
            .map_or(Ok(()), |value| value.validate_items(wire))
    }
}

impl FieldValue for String {
    fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        std::iter::once((None, self.as_str()))
    }
}

/// A missing list reads as empty: "no entries" is what ET means by it.
impl<T: FieldValue> FieldValue for Vec<T> {
    fn when_missing() -> Option<Self> {
        Some(Vec::new())
    }
    fn texts(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        self.iter()
            .enumerate()
            .flat_map(|(i, item)| item.texts().map(move |(_, text)| (Some(i), text)))
    }
    fn validate_items(&self, wire: &str) -> Result<(), ValidationError> {
        self.iter()
            .enumerate()
            .try_for_each(|(i, item)| item.validate_item().map_err(|e| e.within(wire, i)))
    }
}

/// A rule a payload field declares in its `wire_struct!` (listed per type
/// in its `RULES`, enforced by its [`Payload::validate`](crate::Payload::validate)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldRule {
    /// The text must not be blank.
    Required,
    /// The text must be at most this many characters (Unicode scalar
    /// values, not bytes); each item's, for a list.
    MaxChars(usize),
    /// The amount must be more than zero and at most
    /// [`MAX_AMOUNT`](crate::MAX_AMOUNT), written without an exponent, with
    /// at most its currency's decimal places (see [`FieldRule::Currency`]).
    Positive,
    /// As [`FieldRule::Positive`], except that the amount may be zero.
    NonNegative,
    /// The amount is in the currency of the field with this wire name. An
    /// amount field that names none is in its payload's `currency_code`;
    /// where that field is absent or the payload has none, the amount has
    /// at most [`DEFAULT_DECIMAL_PLACES`](crate::DEFAULT_DECIMAL_PLACES).
    Currency(&'static str),
    /// Each item of the list must pass its own rules.
    Items,
}

/// The field an amount's currency is read from unless it names another
/// ([`FieldRule::Currency`]).
const CURRENCY_FIELD: &str = "currency_code";

impl FieldRule {
    /// When the rule is checked: every field's `Required` first, then
    /// lengths, amounts, items; so the first error is the same whatever
    /// the field order.
    fn pass(self) -> u8 {
        match self {
            FieldRule::Required => 0,
            FieldRule::MaxChars(_) => 1,
            FieldRule::Positive | FieldRule::NonNegative | FieldRule::Currency(_) => 2,
            FieldRule::Items => 3,
        }
    }
}

/// How many passes [`check_field`] is called with (see `FieldRule::pass`).
pub(crate) const PASSES: u8 = 4;

/// Checks the `rules` of one field that belong to `pass`; `currency`
/// gives the currency of the payload's field with that wire name.
pub(crate) fn check_field<'a, T: FieldValue>(
    value: &T,
    wire: &'static str,
    rules: &[FieldRule],
    pass: u8,
    currency: impl Fn(&str) -> Option<&'a CurrencyCode>,
) -> Result<(), ValidationError> {
    let places = || {
        let named = rules.iter().find_map(|rule| match rule {
            FieldRule::Currency(field) => Some(*field),
            _ => None,
        });
        currency(named.unwrap_or(CURRENCY_FIELD))
            .map_or(DEFAULT_DECIMAL_PLACES, CurrencyCode::decimal_places)
    };
    let named = |index: Option<usize>| match index {
        Some(i) => format!("{wire}[{i}]"),
        None => wire.to_owned(),
    };
    rules
        .iter()
        .filter(|rule| rule.pass() == pass)
        .try_for_each(|rule| match *rule {
            FieldRule::Required => value.texts().try_for_each(|(i, text)| {
                check_required([(wire, text)]).map_err(|e| ValidationError::new(named(i), e.rule))
            }),
            FieldRule::MaxChars(max) => value.texts().try_for_each(|(i, text)| {
                check_len((wire, Some(text), max))
                    .map_err(|e| ValidationError::new(named(i), e.rule))
            }),
            FieldRule::Positive => {
                check_amount(wire, value.amount(), AmountSign::Positive, places())
            }
            FieldRule::NonNegative => {
                check_amount(wire, value.amount(), AmountSign::NonNegative, places())
            }
            FieldRule::Currency(_) => Ok(()),
            FieldRule::Items => value.validate_items(wire),
        })
}

/// Writes the `extra` entries whose keys no typed field uses or reads
/// (an alias in `extra` would spell a typed field a second time).
pub(crate) fn write_extra<M: serde::ser::SerializeMap>(
    map: &mut M,
    extra: &Extra,
    known: &[&str],
    aliases: &[(&str, &str)],
) -> Result<(), M::Error> {
    let typed = |key: &str| known.contains(&key) || aliases.iter().any(|(alias, _)| *alias == key);
    extra
        .iter()
        .filter(|(key, _)| !typed(key))
        .try_for_each(|(key, value)| map.serialize_entry(key, value))
}

/// The error for a field read twice: under one name (serde's "duplicate
/// field"), or, for a field with aliases, under any two of its names.
pub(crate) fn repeated<E: serde::de::Error>(wire: &'static str, aliases: &[&str]) -> E {
    if aliases.is_empty() {
        return E::duplicate_field(wire);
    }
    let names: Vec<String> = std::iter::once(wire)
        .chain(aliases.iter().copied())
        .map(|name| format!("`{name}`"))
        .collect();
    E::custom(format_args!(
        "duplicate field `{wire}`: {} name one field, give it once",
        names.join(" and ")
    ))
}

/// The [`FieldRule`]s a field's declaration names: its mode (`required`
/// adds [`FieldRule::Required`]; `new` and `default(..)` only shape `new`)
/// and its bracketed checks.
macro_rules! field_rules {
    (required; $($rule:ident $(($($arg:tt)*))?),*) => {
        &[$crate::FieldRule::Required $(, $crate::wire::field_rules!(@one $rule $(($($arg)*))?))*]
    };
    ($($mode:ident)?; $($rule:ident $(($($arg:tt)*))?),*) => {
        &[$($crate::wire::field_rules!(@one $rule $(($($arg)*))?)),*]
    };
    (@one max($max:expr)) => { $crate::FieldRule::MaxChars($max) };
    (@one positive) => { $crate::FieldRule::Positive };
    (@one non_negative) => { $crate::FieldRule::NonNegative };
    (@one currency($field:literal)) => { $crate::FieldRule::Currency($field) };
    (@one items) => { $crate::FieldRule::Items };
}
pub(crate) use field_rules;

/// The sentence a field's doc gains from one part of its declaration, so a
/// limit is written once: in [`limits`](crate::limits), linked from here.
macro_rules! rule_doc {
    (required) => {
        "\n\nRequired: must not be blank (nor may any item, for a list)."
    };
    (new) => {
        "\n\nA parameter of `new`."
    };
    (default($value:expr)) => {
        concat!("\n\n`new` sets `", stringify!($value), "`.")
    };
    (max($max:ident)) => {
        concat!(
            "\n\nAt most [`",
            stringify!($max),
            "`](crate::limits::",
            stringify!($max),
            ") characters."
        )
    };
    (positive) => {
        "\n\nMust be more than 0 and at most [`MAX_AMOUNT`](crate::MAX_AMOUNT), \
         without an exponent, with at most its currency's decimal places \
         ([`FieldRule::Currency`](crate::FieldRule::Currency))."
    };
    (non_negative) => {
        "\n\nMust not be negative; at most [`MAX_AMOUNT`](crate::MAX_AMOUNT), \
         without an exponent, with at most its currency's decimal places \
         ([`FieldRule::Currency`](crate::FieldRule::Currency))."
    };
    (currency($field:literal)) => {
        concat!("\n\nIn the currency `", $field, "` names.")
    };
    (items) => {
        "\n\nEach item is validated; an error names it by position (`list[1].field`)."
    };
}
pub(crate) use rule_doc;

/// Declares a payload struct (public fields plus `pub extra: Extra`), its
/// `Serialize` / `Deserialize` implementations, and its rules, once per
/// field:
///
/// ```text
/// /// Doc.
/// pub merchant_order_id: String = "merchant_order_id" required [max(MERCHANT_ORDER_ID_MAX)],
/// pub count: u32 = "count" default(0),
/// ```
///
/// The wire name may be followed by aliases, other names the field is read
/// under (`= "tuituon" | "tuition"`): written under the wire name only; a
/// payload giving the field under two of its names is refused, naming it.
/// After the names, an optional mode: `required` (a parameter of `new`,
/// must not be blank), `new` (a parameter of `new`, no check) or
/// `default(value)` (what `new` sets; other fields get `Default::default()`).
/// Then optional checks in brackets: `max(CONST)` (a constant of
/// [`limits`](crate::limits)), `positive`, `non_negative`,
/// `currency("wire_name")` (the field naming an amount's currency, when it
/// is not `currency_code`), `items`. From this
/// come `FIELDS`, `RULES`, [`Payload::validate`](crate::Payload::validate),
/// the field docs' limits and, when the struct is followed by
/// `/// doc pub fn new;`, the constructor (async-stripe style).
///
/// Why not `#[derive]` with `#[serde(flatten)]`: flatten buffers the input
/// and turns `10000.00` into the float `10000.0`. Reading field by field
/// from the map keeps each value's text (see `Amount`).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
        $($new:tt)*
    ) => {
        $crate::wire::wire_struct!(@struct [$(#[$meta])*] $name { $($body)* });
        $crate::wire::wire_struct!(@maybe_new $name { $($body)* } $($new)*);
    };

    (@maybe_new $name:ident $body:tt) => {};
    (@maybe_new $name:ident { $($body:tt)* } $(#[$newmeta:meta])* pub fn new;) => {
        $crate::wire::wire_struct!(@new $name [$(#[$newmeta])*] [] [] $($body)*);
    };

    // `new`: one step per field, collecting parameters and initialisers.
    (@new $name:ident [$($newmeta:tt)*] [$($param:tt)*] [$($init:tt)*]) => {
        impl $name {
            $($newmeta)*
            pub fn new($($param)*) -> Self {
                $name { $($init)* extra: $crate::Extra::new() }
            }
        }
    };
    // A mode without arguments (`required` or `new`): a parameter of `new`.
    (@new $name:ident $newmeta:tt [$($param:tt)*] [$($init:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : String = $wire:literal $(| $alias:literal)* $mode:ident $([$($rule:tt)*])?,
        $($rest:tt)*
    ) => {
        $crate::wire::wire_struct!(@new $name $newmeta
            [$($param)* $field: impl Into<String>,] [$($init)* $field: $field.into(),] $($rest)*);
    };
    (@new $name:ident $newmeta:tt [$($param:tt)*] [$($init:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty = $wire:literal $(| $alias:literal)* $mode:ident $([$($rule:tt)*])?,
        $($rest:tt)*
    ) => {
        $crate::wire::wire_struct!(@new $name $newmeta
            [$($param)* $field: $ty,] [$($init)* $field,] $($rest)*);
    };
    (@new $name:ident $newmeta:tt $params:tt [$($init:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty = $wire:literal $(| $alias:literal)* default($value:expr) $([$($rule:tt)*])?,
        $($rest:tt)*
    ) => {
        $crate::wire::wire_struct!(@new $name $newmeta
            $params [$($init)* $field: $value,] $($rest)*);
    };
    (@new $name:ident $newmeta:tt $params:tt [$($init:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty = $wire:literal $(| $alias:literal)* $([$($rule:tt)*])?,
        $($rest:tt)*
    ) => {
        $crate::wire::wire_struct!(@new $name $newmeta
            $params [$($init)* $field: Default::default(),] $($rest)*);
    };

    (
        @struct [$(#[$meta:meta])*] $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty = $wire:literal $(| $alias:literal)*
                    $($mode:ident $(($default:expr))?)?
                    $([$($rule:ident $(($($arg:tt)*))?),+ $(,)?])?,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[doc = concat!("\n\nWire name: `", $wire, "`.")]
                $( #[doc = concat!(" Also read as `", $alias, "`.")] )*
                $( #[doc = $crate::wire::rule_doc!($mode $(($default))?)] )?
                $($( #[doc = $crate::wire::rule_doc!($rule $(($($arg)*))?)] )+)?
                pub $field: $ty,
            )*
            /// Fields this type does not know, kept verbatim (see [`Extra`](crate::Extra)).
            pub extra: $crate::Extra,
        }

        impl $name {
            /// The wire names of the typed fields, in write order.
            pub const FIELDS: &'static [&'static str] = &[$($wire),*];

            /// The other names a typed field is read under, each with the
            /// field's wire name: `(alias, wire name)`. Never written.
            pub const ALIASES: &'static [(&'static str, &'static str)] = &[$($(($alias, $wire),)*)*];

            /// The declared rules of each typed field, by wire name, in
            /// field order: what [`validate`](crate::Payload::validate) enforces.
            pub const RULES: &'static [(&'static str, &'static [$crate::FieldRule])] = &[
                $( ($wire, $crate::wire::field_rules!($($mode)?; $($($rule $(($($arg)*))?),+)?)) ),*
            ];
        }

        impl $crate::Payload for $name {
            fn validate(&self) -> Result<(), $crate::ValidationError> {
                // The currency named by a field of this payload, by wire name.
                let currency = |wire: &str| match wire {
                    $( $wire => $crate::wire::FieldValue::currency(&self.$field), )*
                    _ => None,
                };
                (0..$crate::wire::PASSES).try_for_each(|pass| {
                    $(
                        $crate::wire::check_field(
                            &self.$field,
                            $wire,
                            $crate::wire::field_rules!($($mode)?; $($($rule $(($($arg)*))?),+)?),
                            pass,
                            currency,
                        )?;
                    )*
                    Ok(())
                })
            }
        }

        impl $crate::wire::FieldValue for $name {
            fn validate_item(&self) -> Result<(), $crate::ValidationError> {
                $crate::Payload::validate(self)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if !$crate::wire::FieldValue::is_absent(&self.$field) {
                        map.serialize_entry($wire, &self.$field)?;
                    }
                )*
                $crate::wire::write_extra(&mut map, &self.extra, Self::FIELDS, Self::ALIASES)?;
                map.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visit;
                impl<'de> ::serde::de::Visitor<'de> for Visit {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        use ::serde::de::Error;
                        $( let mut $field: Option<$ty> = None; )*
                        let mut extra = $crate::Extra::new();
                        while let Some($crate::wire::WireKey(key)) = map.next_key()? {
                            match key.as_ref() {
                                $(
                                    $wire $(| $alias)* => {
                                        if $field.is_some() {
                                            return Err($crate::wire::repeated($wire, &[$($alias),*]));
                                        }
                                        $field = Some(map.next_value()?);
                                    }
                                )*
                                _ => {
                                    let value = map.next_value::<$crate::RawJson>()?;
                                    extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok($name {
                            $(
                                $field: match $field {
                                    Some(value) => value,
                                    None => $crate::wire::FieldValue::when_missing()
                                        .ok_or_else(|| A::Error::missing_field($wire))?,
                                },
                            )*
                            extra,
                        })
                    }
                }
                deserializer.deserialize_map(Visit)
            }
        }
    };
}
pub(crate) use wire_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_length_stops_where_the_number_ends_or_says_where_it_breaks() {
        assert_eq!(json_number_len(b"-12.50e+3,"), Ok(9));
        assert_eq!(json_number_len(b"01"), Ok(1));
        assert_eq!(json_number_len(b"-x"), Err((1, "bad number")));
        assert_eq!(
            json_number_len(b"1.e5"),
            Err((2, "bad number: digits expected after '.'"))
        );
        assert_eq!(
            json_number_len(b"1e-"),
            Err((3, "bad number: digits expected in exponent"))
        );
    }

    #[test]
    fn strings_are_quoted_and_escaped_only_when_needed() {
        let mut out = String::new();
        push_json_string(&mut out, "a b");
        push_json_string(&mut out, "say \"hi\"\n");
        assert_eq!(out, r#""a b""say \"hi\"\n""#);
    }
}
