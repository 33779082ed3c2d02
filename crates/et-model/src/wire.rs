//! The machinery every payload type shares: unknown-field pass-through
//! ([`Extra`], [`RawJson`]) and the `wire_struct!` macro that declares a
//! payload struct together with its order-preserving, scale-preserving serde
//! implementations.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

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

/// How a payload field behaves when it is absent: `Option` fields are
/// skipped on write and read as `None`; every other field is required.
pub(crate) trait FieldValue: Sized {
    fn is_absent(&self) -> bool {
        false
    }
    fn when_missing() -> Option<Self> {
        None
    }
}

impl<T> FieldValue for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
    fn when_missing() -> Option<Self> {
        Some(None)
    }
}

impl FieldValue for String {}
/// A missing list reads as empty: "no entries" is what ET means by it.
impl<T> FieldValue for Vec<T> {
    fn when_missing() -> Option<Self> {
        Some(Vec::new())
    }
}

/// Writes the `extra` entries whose keys no typed field uses.
pub(crate) fn write_extra<M: serde::ser::SerializeMap>(
    map: &mut M,
    extra: &Extra,
    known: &[&str],
) -> Result<(), M::Error> {
    extra
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .try_for_each(|(key, value)| map.serialize_entry(key, value))
}

/// Declares a payload struct (public fields plus `pub extra: Extra`) and its
/// `Serialize` / `Deserialize` implementations.
///
/// Why not `#[derive]` with `#[serde(flatten)]`: flatten buffers the input
/// and turns `10000.00` into the float `10000.0`. Reading field by field
/// from the map keeps each value's text (see `Amount`).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty = $wire:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* #[doc = concat!("\n\nWire name: `", $wire, "`.")] pub $field: $ty, )*
            /// Fields this type does not know, kept verbatim (see [`Extra`](crate::Extra)).
            pub extra: $crate::Extra,
        }

        impl $name {
            /// The wire names of the typed fields, in write order.
            pub const FIELDS: &'static [&'static str] = &[$($wire),*];
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
                $crate::wire::write_extra(&mut map, &self.extra, Self::FIELDS)?;
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
                                    $wire => {
                                        if $field.is_some() {
                                            return Err(A::Error::duplicate_field($wire));
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
