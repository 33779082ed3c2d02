//! The sign string: the one text both the RSA envelope signature and the
//! notification MD5 are computed over.

use std::cmp::Ordering;

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
    with_sorted_pairs(pairs, rule, |sorted| join_pairs(valued(sorted)))
}

/// Up to this many pairs are sorted in a buffer on the stack, so that a
/// notification's sign string is hashed without an allocation.
const STACK_PAIRS: usize = 16;

/// Calls `then` with the pairs of `rule`'s sign string in their signed
/// order (`sign` left out, sorted by key bytes): one definition of the rule
/// for joining the text and for hashing it piece by piece
/// ([`write_sorted`]).
pub(crate) fn with_sorted_pairs<'a, R>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    rule: SignRule,
    then: impl FnOnce(&[(&'a str, &'a str)]) -> R,
) -> R {
    let mut pairs = pairs
        .filter(|(key, _)| *key != SIGN_KEY)
        .filter(|(_, value)| rule == SignRule::AllSorted || !value.is_empty());
    let mut stack = [("", ""); STACK_PAIRS];
    let mut len = 0;
    let mut heap = Vec::new();
    for pair in pairs.by_ref() {
        match stack.get_mut(len) {
            Some(slot) => *slot = pair,
            None => {
                heap.extend_from_slice(&stack);
                heap.push(pair);
                heap.extend(pairs.by_ref());
                break;
            }
        }
        len += 1;
    }
    let sorted = if heap.is_empty() {
        stack.get_mut(..len).unwrap_or_default()
    } else {
        heap.as_mut_slice()
    };
    sorted.sort_unstable_by(|a, b| key_order(a.0, b.0));
    then(sorted)
}

/// Byte order of two keys, decided on their first eight bytes read as one
/// big-endian number when those differ (as for every pair of documented
/// keys): one integer compare instead of a `memcmp` call per comparison.
/// A key shorter than eight bytes is padded with zeros, which can only tie
/// with a longer key it is a prefix of; ties fall back to the full compare.
fn key_order(a: &str, b: &str) -> Ordering {
    match key_prefix(a).cmp(&key_prefix(b)) {
        Ordering::Equal => a.as_bytes().cmp(b.as_bytes()),
        order => order,
    }
}

pub(crate) fn key_prefix(key: &str) -> u64 {
    key_prefix_at(key.as_bytes(), 0, key.len())
}

/// [`key_prefix`] of the key at `start..end` of `bytes`: when eight bytes
/// from `start` lie in `bytes` (a key in a body is followed by more), one
/// load with the bytes past the key masked off.
#[inline]
pub(crate) fn key_prefix_at(bytes: &[u8], start: usize, end: usize) -> u64 {
    let len = end.saturating_sub(start);
    match bytes.get(start..).and_then(<[u8]>::first_chunk::<8>) {
        Some(head) if len >= 8 => u64::from_be_bytes(*head),
        Some(head) => u64::from_be_bytes(*head) & !(u64::MAX >> (8 * len)),
        None => {
            let mut word = [0; 8];
            let key = bytes.get(start..end).unwrap_or_default();
            for (slot, byte) in word.iter_mut().zip(key) {
                *slot = *byte;
            }
            u64::from_be_bytes(word)
        }
    }
}

/// What a sign string is written from: text (`str`, to join it) or the
/// bytes of a body (`[u8]`, to hash it without checking where characters
/// begin). One definition of the splicing serves both.
pub(crate) trait Piece: PartialEq + 'static {
    /// The separator between pairs.
    const AND: &'static Self;
    /// The separator between a key and its value.
    const EQUALS: &'static Self;
    /// [`SIGN_KEY`], which the sign string leaves out.
    const SIGN: &'static Self;
    /// Whether the piece is empty.
    fn is_empty(&self) -> bool;
}

impl Piece for str {
    const AND: &'static str = "&";
    const EQUALS: &'static str = "=";
    const SIGN: &'static str = SIGN_KEY;
    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
}

impl Piece for [u8] {
    const AND: &'static [u8] = b"&";
    const EQUALS: &'static [u8] = b"=";
    const SIGN: &'static [u8] = SIGN_KEY.as_bytes();
    fn is_empty(&self) -> bool {
        <[u8]>::is_empty(self)
    }
}

/// Writes pairs already in their signed order (see [`with_sorted_pairs`];
/// `sign` is left out here) as the sign string, piece by piece (`key`,
/// `=`, `value`, `&`, …).
pub(crate) fn write_sorted<'a, P: Piece + ?Sized + 'a>(
    sorted: impl Iterator<Item = (&'a P, &'a P)>,
    write: impl FnMut(&P),
) {
    let signed = sorted.filter(|(key, _)| *key != P::SIGN);
    write_pairs(signed.map(|(key, value)| (key, Some(value))), write);
}

fn valued<'s, 'a>(
    sorted: &'s [(&'a str, &'a str)],
) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone + 's {
    sorted.iter().map(|&(key, value)| (key, Some(value)))
}

/// The v1 notification page's printed form (spec 04 §3.2): keys in received
/// order, an empty value written as the bare key (`&extend_info`).
pub fn v1_printed_string(object: &UntypedObject) -> String {
    v1_printed_of(object.iter().map(|(key, value)| (key, value.text())))
}

/// [`v1_printed_string`] over `(key, text)` pairs in received order.
pub(crate) fn v1_printed_of<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    join_pairs(v1_pairs(pairs))
}

/// [`v1_printed_of`], piece by piece to `write`.
pub(crate) fn write_v1_printed<'a, P: Piece + ?Sized + 'a>(
    pairs: impl Iterator<Item = (&'a P, &'a P)> + Clone,
    write: impl FnMut(&P),
) {
    write_pairs(v1_pairs(pairs), write);
}

/// The v1 form's pairs: `sign` left out, an empty value printed bare.
fn v1_pairs<'a, P: Piece + ?Sized + 'a>(
    pairs: impl Iterator<Item = (&'a P, &'a P)> + Clone,
) -> impl Iterator<Item = (&'a P, Option<&'a P>)> + Clone {
    pairs
        .filter(|(key, _)| *key != P::SIGN)
        .map(|(key, value)| (key, Some(value).filter(|v| !v.is_empty())))
}

/// Joins `key=value` pairs with `&` into one buffer sized up front.
fn join_pairs<'a>(pairs: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone) -> String {
    let len = pairs
        .clone()
        .map(|(key, value)| key.len() + value.map_or(0, |v| v.len() + 1) + 1)
        .sum();
    let mut out = String::with_capacity(len);
    write_pairs(pairs, |piece| out.push_str(piece));
    out
}

/// Writes `key=value` pairs joined by `&` (a pair without a value as the
/// bare key), piece by piece.
fn write_pairs<'a, P: Piece + ?Sized + 'a>(
    pairs: impl Iterator<Item = (&'a P, Option<&'a P>)>,
    mut write: impl FnMut(&P),
) {
    for (i, (key, value)) in pairs.enumerate() {
        if i > 0 {
            write(P::AND);
        }
        write(key);
        if let Some(value) = value {
            write(P::EQUALS);
            write(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::{any, Just};

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
    fn more_pairs_than_the_stack_buffer_sort_the_same() {
        let obj: UntypedObject = (0..40)
            .rev()
            .map(|i| (format!("k{i:02}"), UntypedValue::integer(i)))
            .collect();
        let expected: Vec<String> = (0..40).map(|i| format!("k{i:02}={i}")).collect();
        assert_eq!(sign_string(&obj), expected.join("&"));
    }

    proptest::proptest! {
        /// A key's prefix read where it lies in a longer text (one load,
        /// the bytes past it masked off) is its prefix read alone.
        #[test]
        fn a_key_prefix_read_in_place_is_the_key_prefix(
            text in proptest::collection::vec(any::<u8>(), 0..24),
            start in 0usize..24,
            len in 0usize..12,
        ) {
            let end = (start + len).min(text.len());
            let start = start.min(end);
            let alone = String::from_utf8_lossy(&text[start..end]).into_owned();
            let lossless = alone.as_bytes() == &text[start..end];
            if lossless {
                proptest::prop_assert_eq!(key_prefix_at(&text, start, end), key_prefix(&alone));
            }
        }

        /// Text and bytes write the same sign string, piece for piece.
        #[test]
        fn text_and_bytes_splice_alike(
            pairs in proptest::collection::vec(("[a-z]{0,6}", "[a-z&=]{0,6}"), 0..6),
        ) {
            let mut joined = String::new();
            write_sorted(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), |p| joined.push_str(p));
            let mut bytes = Vec::new();
            write_sorted(pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())), |p| bytes.extend_from_slice(p));
            proptest::prop_assert_eq!(joined.as_bytes(), bytes.as_slice());
            let mut v1 = String::new();
            write_v1_printed(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), |p| v1.push_str(p));
            let mut v1_bytes = Vec::new();
            write_v1_printed(pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())), |p| v1_bytes.extend_from_slice(p));
            proptest::prop_assert_eq!(v1.as_bytes(), v1_bytes.as_slice());
        }

        #[test]
        fn key_order_is_byte_order(
            a in proptest::collection::vec(proptest::prop_oneof![Just(0u8), Just(b'a'), any::<u8>()], 0..12),
            b in proptest::collection::vec(proptest::prop_oneof![Just(0u8), Just(b'a'), any::<u8>()], 0..12),
        ) {
            let a = String::from_utf8_lossy(&a);
            let b = String::from_utf8_lossy(&b);
            proptest::prop_assert_eq!(key_order(&a, &b), a.as_bytes().cmp(b.as_bytes()));
            proptest::prop_assert_eq!(key_order(&a, &a), Ordering::Equal);
        }
    }

    #[test]
    fn key_order_ties_a_prefix_padded_with_zeros_to_the_full_compare() {
        assert_eq!(key_order("a", "a\0"), Ordering::Less);
        assert_eq!(key_order("a\0\0\0\0\0\0\0x", "a"), Ordering::Greater);
        assert_eq!(key_order("pay_amount", "pay_amounts"), Ordering::Less);
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
