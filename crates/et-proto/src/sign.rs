//! The sign string: the one text both the RSA envelope signature and the
//! notification MD5 are computed over.

use crate::raw::UntypedObject;

/// The key that carries the signature and is never part of the sign string.
pub const SIGN_KEY: &str = "sign";

/// How the sign string is spliced from an object's keys.
///
/// ET's page describing the rule was cut off in every archived copy
/// (spec 01 Q1); the default follows ET's own notification helper, which is
/// the only splicing code ET has published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignRule {
    /// Every key but `sign`, sorted by byte order, `key=value` joined by
    /// `&`, empty values kept (`return_info=`). Default: ET's MD5 helper
    /// (spec 01 §8.2) and the "sort and splice" wording of the decryption page.
    #[default]
    AllSorted,
    /// As [`AllSorted`](Self::AllSorted) but keys with an empty value are
    /// left out: the first alternative listed in spec 01 Q1, common in other
    /// Chinese payment APIs.
    SkipEmpty,
}

/// The sign string of `object` under the default rule ([`SignRule::AllSorted`]).
pub fn sign_string(object: &UntypedObject) -> String {
    sign_string_with(object, SignRule::AllSorted)
}

/// The sign string of `object` under `rule`: values are each value's
/// [`text`](crate::UntypedValue::text), exactly as on the wire.
pub fn sign_string_with(object: &UntypedObject, rule: SignRule) -> String {
    sign_string_of(object.iter().map(|(key, value)| (key, value.text())), rule)
}

/// [`sign_string_with`] over `(key, text)` pairs, wherever they are kept.
pub(crate) fn sign_string_of<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    rule: SignRule,
) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs
        .filter(|(key, _)| *key != SIGN_KEY)
        .filter(|(_, value)| rule == SignRule::AllSorted || !value.is_empty())
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    join_pairs(pairs.into_iter().map(|(k, v)| (k, Some(v))))
}

/// The v1 notification page's printed form (spec 04 §3.2): keys in received
/// order, an empty value written as the bare key (`&extend_info`).
pub fn v1_printed_string(object: &UntypedObject) -> String {
    v1_printed_of(object.iter().map(|(key, value)| (key, value.text())))
}

/// [`v1_printed_string`] over `(key, text)` pairs in received order.
pub(crate) fn v1_printed_of<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    join_pairs(
        pairs
            .filter(|(key, _)| *key != SIGN_KEY)
            .map(|(key, value)| (key, Some(value).filter(|v| !v.is_empty()))),
    )
}

/// Joins `key=value` pairs with `&` into one buffer sized up front.
fn join_pairs<'a>(pairs: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone) -> String {
    let len = pairs
        .clone()
        .map(|(key, value)| key.len() + value.map_or(0, |v| v.len() + 1) + 1)
        .sum();
    let mut out = String::with_capacity(len);
    for (i, (key, value)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::UntypedValue;
    use crate::Message;

    fn example() -> UntypedObject {
        UntypedObject::parse_json(
            br#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,
                "pay_datetime":"2024-12-01 10:00:00","extend_info":"","sign":"x"}"#,
            Message::Notification,
        )
        .unwrap()
    }

    #[test]
    fn matches_et_documented_string() {
        assert_eq!(
            sign_string(&example()),
            "extend_info=&order_id=ETxxxxxxxxxxxx01&pay_amount=10000.00&pay_datetime=2024-12-01 10:00:00&pay_result=1"
        );
    }

    #[test]
    fn skip_empty_and_v1_printed() {
        assert!(!sign_string_with(&example(), SignRule::SkipEmpty).contains("extend_info"));
        assert_eq!(
            v1_printed_string(&example()),
            "order_id=ETxxxxxxxxxxxx01&pay_result=1&pay_amount=10000.00&pay_datetime=2024-12-01 10:00:00&extend_info"
        );
    }

    #[test]
    fn sorts_by_bytes_not_by_locale() {
        let obj: UntypedObject = [
            ("b", UntypedValue::integer(1)),
            ("B", UntypedValue::integer(2)),
            ("a_", UntypedValue::integer(3)),
            ("aa", UntypedValue::integer(4)),
        ]
        .into_iter()
        .collect();
        assert_eq!(sign_string(&obj), "B=2&a_=3&aa=4&b=1");
    }
}
