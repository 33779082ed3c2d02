//! Reading a payload straight from `(key, text)` pairs, with no JSON text in
//! between: the notification hot path.
//!
//! Each value reads as the JSON string holding it would. Strings, codes and
//! `Option`s need no help; [`Amount`](crate::Amount) and
//! [`RawJson`](crate::RawJson) keep a value's JSON text in a serde_json
//! `RawValue`, which asks any deserializer for it as a one-entry map under
//! `RAW_VALUE`; it gets the JSON string literal `push_json_string` writes.

use std::iter;

use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use crate::wire::push_json_string;

/// The newtype name serde_json's `RawValue` deserializes through (private
/// to serde_json, though long stable). Were it to change, reading a
/// `RawValue` here would fail and the caller fall back to JSON text: only
/// speed is at stake, and a test below pins it.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// Reads `T` from the pairs as if from the JSON object of their strings.
pub(crate) fn from_pairs<T: DeserializeOwned>(
    pairs: &[(&str, &str)],
) -> Result<T, serde_json::Error> {
    T::deserialize(Pairs {
        pairs: pairs.iter(),
        value: None,
    })
}

/// The pairs as a map, so a payload's `visit_map` reads them.
struct Pairs<'a> {
    pairs: std::slice::Iter<'a, (&'a str, &'a str)>,
    /// The value of the key just read.
    value: Option<&'a str>,
}

impl<'de> de::Deserializer<'de> for Pairs<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for Pairs<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(Text(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value asked for before its key"))?;
        seed.deserialize(Text(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

/// One key or value: a JSON string without the quotes.
struct Text<'a>(&'a str);

impl<'de> de::Deserializer<'de> for Text<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if name != RAW_VALUE {
            return visitor.visit_newtype_struct(self);
        }
        let mut json = String::with_capacity(self.0.len() + 2);
        push_json_string(&mut json, self.0);
        visitor.visit_map(MapDeserializer::new(iter::once((name, json))))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Amount, Extra, RawJson};

    #[test]
    fn exact_text_values_read_without_json_text() {
        // Fails should serde_json rename `RAW_VALUE`.
        let amounts: BTreeMap<String, Amount> = from_pairs(&[("a", " 10000.00")]).unwrap();
        assert_eq!(amounts["a"].as_str(), "10000.00");
        let extra: Extra = from_pairs(&[("note", "say \"hi\"")]).unwrap();
        assert_eq!(extra["note"], RawJson::new(r#""say \"hi\"""#).unwrap());
    }
}
