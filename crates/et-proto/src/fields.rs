//! A received notification's fields as places in its body: read once,
//! sorted once, copied never (a value's text lives in a second buffer only
//! when escapes had to be decoded). The same table serves the borrowed
//! [`NotificationView`](crate::NotificationView) and the owned
//! [`VerifiedNotification`](crate::VerifiedNotification), which keeps its
//! body in one buffer and lends `&str` views of it.

use std::cmp::Ordering;
use std::fmt;

use et_model::json_number_len;

use crate::error::Error;
use crate::raw::{run_until, FieldsRef, UntypedObject, UntypedValueRef, ValueKind};
use crate::sign::{key_prefix, key_prefix_at};

/// Up to this many fields are kept without an allocation.
const INLINE: usize = 12;

/// Bytes `start..end` of the body, or of the decoded texts (offsets of
/// 32 bits keep a field small: bodies of 4 GiB or more are refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Option<Self> {
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }

    fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
}

/// Which of a field's texts are in the decoded buffer.
const KEY_DECODED: u8 = 1;
const TEXT_DECODED: u8 = 2;
const JSON_DECODED: u8 = 4;
/// The field has a JSON text (it was read from JSON).
const HAS_JSON: u8 = 8;

/// One field: its key, its sign-string text and its exact JSON text (none
/// for a form or multipart value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    key: Span,
    text: Span,
    json: Span,
    kind: ValueKind,
    /// [`KEY_DECODED`], [`TEXT_DECODED`], [`JSON_DECODED`], [`HAS_JSON`].
    flags: u8,
}

/// An empty slot of the table (never read): all zero bits, so that a new
/// table is one `memset`, not a store per slot.
const NO_FIELD: Field = Field {
    key: Span { start: 0, end: 0 },
    text: Span { start: 0, end: 0 },
    json: Span { start: 0, end: 0 },
    kind: ValueKind::String,
    flags: 0,
};

/// A key and its sign-string text.
pub(crate) type Pair<'v> = (&'v str, &'v str);

/// A key and its sign-string text, as bytes.
pub(crate) type RawPair<'v> = (&'v [u8], &'v [u8]);

/// A few items on the stack, more on the heap; always one slice.
#[derive(Debug, Clone)]
enum Spill<T: Copy> {
    Inline([T; INLINE], usize),
    Heap(Vec<T>),
}

impl<T: Copy> Spill<T> {
    fn push(&mut self, item: T) {
        match self {
            Spill::Inline(items, len) => match items.get_mut(*len) {
                Some(slot) => {
                    *slot = item;
                    *len += 1;
                }
                None => {
                    let mut heap = Vec::with_capacity(INLINE * 2);
                    heap.extend_from_slice(items);
                    heap.push(item);
                    *self = Spill::Heap(heap);
                }
            },
            Spill::Heap(items) => items.push(item),
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Spill::Inline(items, len) => items.get(..*len).unwrap_or_default(),
            Spill::Heap(items) => items,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Spill::Inline(items, len) => items.get_mut(..*len).unwrap_or_default(),
            Spill::Heap(items) => items,
        }
    }
}

/// The fields of one body, in received order, with their order by key
/// (the sign string's), keys known to be distinct.
#[derive(Clone)]
pub(crate) struct Fields {
    fields: Spill<Field>,
    /// Each field's key prefix ([`key_prefix`]: most keys sort by it
    /// alone) and index into `fields`, sorted by key bytes.
    sorted: Spill<(u64, usize)>,
    /// The texts that are not the body's own bytes.
    decoded: String,
    /// No key or text holds `&` or `=` (known by the plain JSON reader,
    /// which looked; `false` when no one did).
    separator_free: bool,
}

impl Fields {
    pub(crate) fn new() -> Self {
        Fields {
            fields: Spill::Inline([NO_FIELD; INLINE], 0),
            sorted: Spill::Inline([(0, 0); INLINE], 0),
            decoded: String::new(),
            separator_free: false,
        }
    }

    /// Reads a flat JSON object whose keys and string values hold no
    /// escape, and whose values are strings, numbers or literals: a
    /// notification as ET sends it. `None` for anything else, a repeated
    /// key included; the full reader ([`crate::raw`]) then decides, so
    /// this reading only ever answers where that one would answer the same
    /// (the property test `fast_and_full_readings_agree` holds them together).
    /// The fields go into `self`, empty before ([`Fields::new`]; read in
    /// place, the table is not moved), and are to be dropped on `None`.
    pub(crate) fn read_plain_json(&mut self, body: &str) -> Option<()> {
        let bytes = body.as_bytes();
        let at = |i: usize| bytes.get(i).copied();
        let skip_ws = |mut i: usize| {
            while matches!(at(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                i += 1;
            }
            i
        };
        // Whether a string held `&` or `=` (the shape check's question,
        // answered here for every field at once: numbers and literals hold
        // neither).
        let mut separators = false;
        let mut string = |i: usize| plain_string(bytes, i, &mut separators);
        let fields = &mut *self;
        let mut i = skip_ws(0);
        (at(i) == Some(b'{')).then_some(())?;
        i += 1;
        loop {
            i = skip_ws(i);
            match at(i)? {
                b'}' => break,
                b'"' => {}
                _ => return None,
            }
            let (key_start, key_end) = string(i)?;
            i = skip_ws(key_end + 1);
            (at(i) == Some(b':')).then_some(())?;
            i = skip_ws(i + 1);
            let (kind, text, end) = match at(i)? {
                b'"' => {
                    let (start, end) = string(i)?;
                    (ValueKind::String, (start, end), end + 1)
                }
                b'-' | b'0'..=b'9' => {
                    let len = json_number_len(bytes.get(i..)?).ok()?;
                    (ValueKind::Number, (i, i + len), i + len)
                }
                first => {
                    let (word, kind) = match first {
                        b't' => ("true", ValueKind::Bool),
                        b'f' => ("false", ValueKind::Bool),
                        b'n' => ("null", ValueKind::Null),
                        _ => return None,
                    };
                    let end = i + word.len();
                    (bytes.get(i..end)? == word.as_bytes()).then_some(())?;
                    (kind, (i, end), end)
                }
            };
            fields.fields.push(Field {
                key: Span::new(key_start, key_end)?,
                text: Span::new(text.0, text.1)?,
                json: Span::new(i, end)?,
                kind,
                flags: HAS_JSON,
            });
            i = skip_ws(end);
            match at(i)? {
                b',' => i += 1,
                b'}' => break,
                _ => return None,
            }
        }
        (skip_ws(i + 1) == bytes.len()).then_some(())?;
        self.separator_free = !separators;
        self.sort(body).ok()
    }

    /// Fields read by the full readers (JSON, form, multipart) from `body`:
    /// a text that lies in `body` is pointed to, any other (decoded from
    /// escapes) is copied into the decoded buffer. The readers refused
    /// repeated keys.
    pub(crate) fn from_read(read: FieldsRef<'_>, body: &str) -> Result<Self, Error> {
        let mut fields = Fields::new();
        for (key, value) in &read {
            let (key_span, key_decoded) = fields.place(body, key)?;
            let (text, text_decoded) = fields.place(body, value.text())?;
            let (json, json_decoded) = match value.json() {
                Some(json) => fields.place(body, json)?,
                None => (Span::default(), false),
            };
            let flag = |on: bool, flag: u8| if on { flag } else { 0 };
            fields.fields.push(Field {
                key: key_span,
                text,
                json,
                kind: value.kind(),
                flags: flag(key_decoded, KEY_DECODED)
                    | flag(text_decoded, TEXT_DECODED)
                    | flag(json_decoded, JSON_DECODED)
                    | flag(value.json().is_some(), HAS_JSON),
            });
        }
        // Repeats were refused by the reader: sorting cannot find one.
        let _ = fields.sort(body);
        Ok(fields)
    }

    /// Where `text` lies: in `body` when it is a slice of it, else copied
    /// into the decoded buffer (`true`).
    fn place(&mut self, body: &str, text: &str) -> Result<(Span, bool), Error> {
        let too_large = || Error::NotificationTooLarge {
            len: body.len().max(self.decoded.len() + text.len()),
        };
        let offset = (text.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        let end = offset.wrapping_add(text.len());
        let within = body.as_bytes().as_ptr_range().contains(&text.as_ptr())
            && body
                .get(offset..end)
                .is_some_and(|slice| slice.as_ptr() == text.as_ptr());
        if within {
            return Ok((Span::new(offset, end).ok_or_else(too_large)?, false));
        }
        let start = self.decoded.len();
        let span = Span::new(start, start + text.len()).ok_or_else(too_large)?;
        self.decoded.push_str(text);
        Ok((span, true))
    }

    /// An object's fields (see [`Fields::from_read`]), all copied.
    pub(crate) fn from_object(object: &UntypedObject) -> Result<Self, Error> {
        Fields::from_read(object.fields_ref(), "")
    }

    /// Sorts the index by key; `Err` with the first key found twice.
    fn sort(&mut self, body: &str) -> Result<(), ()> {
        let Fields {
            fields,
            sorted,
            decoded,
            ..
        } = self;
        let fields = fields.as_slice();
        let decoded: &str = decoded;
        let key = |index: usize| {
            fields.get(index).map_or("", |field| {
                text_of(body, decoded, field.key, field.flags & KEY_DECODED)
            })
        };
        for (index, field) in fields.iter().enumerate() {
            // A key in the body is followed by more of it: one load.
            let prefix = match field.flags & KEY_DECODED {
                0 => key_prefix_at(
                    body.as_bytes(),
                    field.key.start as usize,
                    field.key.end as usize,
                ),
                _ => key_prefix(key(index)),
            };
            sorted.push((prefix, index));
        }
        let sorted = sorted.as_mut_slice();
        // By prefix alone first (an integer sort, no calls); keys that
        // share a prefix, and only such keys can be the same key twice,
        // are then ordered by their bytes.
        sorted.sort_unstable();
        let tied = |pair: &[(u64, usize)]| matches!(pair, [a, b] if a.0 == b.0);
        if sorted.windows(2).any(tied) {
            let order = |(a_prefix, a): &(u64, usize), (b_prefix, b): &(u64, usize)| {
                a_prefix
                    .cmp(b_prefix)
                    .then_with(|| key(*a).as_bytes().cmp(key(*b).as_bytes()))
            };
            sorted.sort_unstable_by(order);
            let repeated =
                |pair: &[(u64, usize)]| matches!(pair, [a, b] if order(a, b) == Ordering::Equal);
            if sorted.windows(2).any(repeated) {
                return Err(());
            }
        }
        Ok(())
    }

    /// The fields of `body` (the one they were read from).
    pub(crate) fn of<'v>(&'v self, body: &'v str) -> NotificationFields<'v> {
        NotificationFields { body, fields: self }
    }
}

/// The span of the content of the string whose opening quote is at
/// `quote`, if it holds no escape and no control character; `separators`
/// is set if it holds `&` or `=`. Inlined: it runs for every key and value.
#[inline(always)]
fn plain_string(bytes: &[u8], quote: usize, separators: &mut bool) -> Option<(usize, usize)> {
    let start = quote + 1;
    let mut end = start;
    loop {
        end += run_until(bytes.get(end..)?, [b'"', b'\\', b'&', b'='])?;
        match bytes.get(end)? {
            b'"' => return Some((start, end)),
            b'&' | b'=' => *separators = true,
            _ => return None,
        }
        end += 1;
    }
}

/// The text at `span` of `body`, or of `decoded` when `in_decoded` is set.
fn text_of<'v>(body: &'v str, decoded: &'v str, span: Span, in_decoded: u8) -> &'v str {
    let from = if in_decoded != 0 { decoded } else { body };
    from.get(span.start as usize..span.end as usize)
        .unwrap_or_default()
}

/// A notification's fields, as received: each key with its value's
/// sign-string text (and its JSON text, for a JSON body), borrowed from
/// the body. What [`NotificationView::fields`](crate::NotificationView::fields)
/// and [`VerifiedNotification::fields`](crate::VerifiedNotification::fields) lend.
#[derive(Clone, Copy)]
pub struct NotificationFields<'v> {
    body: &'v str,
    fields: &'v Fields,
}

impl<'v> NotificationFields<'v> {
    fn key(&self, field: &Field) -> &'v str {
        text_of(
            self.body,
            &self.fields.decoded,
            field.key,
            field.flags & KEY_DECODED,
        )
    }

    fn value_text(&self, field: &Field) -> &'v str {
        text_of(
            self.body,
            &self.fields.decoded,
            field.text,
            field.flags & TEXT_DECODED,
        )
    }

    fn pair(&self, field: &Field) -> (&'v str, UntypedValueRef<'v>) {
        let json = (field.flags & HAS_JSON != 0).then(|| {
            text_of(
                self.body,
                &self.fields.decoded,
                field.json,
                field.flags & JSON_DECODED,
            )
        });
        let value = UntypedValueRef::borrowed(field.kind, json, self.value_text(field));
        (self.key(field), value)
    }

    /// `view` of every field, in received order.
    fn each<T>(
        &self,
        view: impl Fn(&Self, &'v Field) -> T + Clone + 'v,
    ) -> impl Iterator<Item = T> + Clone + 'v {
        let this = *self;
        let fields: &'v [Field] = self.fields.fields.as_slice();
        fields.iter().map(move |field| view(&this, field))
    }

    /// Every field, `sign` included, in received order.
    pub fn iter(&self) -> impl Iterator<Item = (&'v str, UntypedValueRef<'v>)> + Clone + 'v {
        self.each(Self::pair)
    }

    /// Every `(key, text)`, in received order.
    pub(crate) fn texts(&self) -> impl Iterator<Item = (&'v str, &'v str)> + Clone + 'v {
        self.each(|this, field| (this.key(field), this.value_text(field)))
    }

    /// A field's key and text as bytes: no check of where characters
    /// begin (the readers cut every text at one), which is what hashing and
    /// comparing need.
    fn raw_pair(&self, field: &Field) -> RawPair<'v> {
        let bytes = |span: Span, in_decoded: u8| {
            let from = if in_decoded != 0 {
                self.fields.decoded.as_bytes()
            } else {
                self.body.as_bytes()
            };
            from.get(span.start as usize..span.end as usize)
                .unwrap_or_default()
        };
        (
            bytes(field.key, field.flags & KEY_DECODED),
            bytes(field.text, field.flags & TEXT_DECODED),
        )
    }

    /// Every `(key, text)` as bytes, in received order.
    pub(crate) fn raw(&self) -> impl Iterator<Item = RawPair<'v>> + Clone + 'v {
        self.each(Self::raw_pair)
    }

    /// Every `(key, text)` as bytes, sorted by key (the sign string's
    /// order).
    pub(crate) fn raw_sorted(&self) -> impl Iterator<Item = RawPair<'v>> + Clone + 'v {
        let this = *self;
        let fields = self.fields.fields.as_slice();
        self.fields
            .sorted
            .as_slice()
            .iter()
            .filter_map(move |(_, index)| fields.get(*index))
            .map(move |field| this.raw_pair(field))
    }

    /// Calls `then` with every `(key, text)` in received order and the
    /// same sorted by key bytes (the sign string's order), each looked up
    /// once: on the stack for a few fields.
    pub(crate) fn with_pairs<R>(&self, then: impl FnOnce(&[Pair<'v>], &[Pair<'v>]) -> R) -> R {
        let order = self.fields.sorted.as_slice();
        let sort = |received: &[Pair<'v>], sorted: &mut [Pair<'v>]| {
            for (slot, (_, index)) in sorted.iter_mut().zip(order) {
                *slot = received.get(*index).copied().unwrap_or_default();
            }
        };
        let len = self.len();
        if len <= INLINE {
            let mut received = [("", ""); INLINE];
            for (slot, pair) in received.iter_mut().zip(self.texts()) {
                *slot = pair;
            }
            let received = received.get(..len).unwrap_or_default();
            let mut sorted = [("", ""); INLINE];
            let sorted = sorted.get_mut(..len).unwrap_or_default();
            sort(received, sorted);
            then(received, sorted)
        } else {
            let received: Vec<Pair<'v>> = self.texts().collect();
            let mut sorted = vec![("", ""); len];
            sort(&received, &mut sorted);
            then(&received, &sorted)
        }
    }

    /// Whether every key and text is known to hold neither `&` nor `=`,
    /// the sign string's separators: the plain JSON reader looks while it reads
    /// (no scan per field after it), the other readers do not (`false`).
    pub(crate) fn separator_free(&self) -> bool {
        self.fields.separator_free
    }

    /// The field under `key` (the lengths of most keys differ: a scan is
    /// cheaper than a binary search through the spans).
    fn find(&self, key: &str) -> Option<&'v Field> {
        self.fields
            .fields
            .as_slice()
            .iter()
            .find(|field| field.key.len() == key.len() && self.key(field) == key)
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<UntypedValueRef<'v>> {
        self.find(key).map(|field| self.pair(field).1)
    }

    /// The sign-string text under `key`.
    pub fn text(&self, key: &str) -> Option<&'v str> {
        self.find(key).map(|field| self.value_text(field))
    }

    /// How many fields, `sign` included.
    pub fn len(&self) -> usize {
        self.fields.fields.as_slice().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fields as an owned object (values copied).
    pub fn to_object(&self) -> UntypedObject {
        self.iter()
            .map(|(key, value)| (key, value.to_value()))
            .collect()
    }

    /// Compact JSON text of the fields, in received order, each JSON value
    /// written as received (a form's values as strings): see
    /// [`UntypedObject::to_json`].
    pub fn to_json(&self) -> String {
        self.to_object().to_json()
    }
}

/// Every field in received order, as `key: text`.
impl fmt::Debug for NotificationFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.texts()).finish()
    }
}

/// Equal when the same keys hold the same values in the same order,
/// wherever each text is kept.
impl PartialEq for NotificationFields<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::raw::parse_json_ref;
    use crate::Message;

    /// The one-pass reading of `body`, if it answers.
    fn plain(body: &str) -> Option<Fields> {
        let mut fields = Fields::new();
        fields.read_plain_json(body).map(|()| fields)
    }

    /// Keys: mostly plain and distinct, some repeated, escaped, empty, not
    /// UTF-8-simple, or not keys at all.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "\"[a-z_]{1,12}\"",
            1 => prop::sample::select(vec![
                r#""sign""#,
                r#""order_id""#,
                r#""a\u0062""#,
                r#""""#,
                "a",
                r#""é中""#,
                "\"a\u{1}\"",
                r#""a&b""#,
                r#""k=v""#,
            ])
            .prop_map(str::to_owned),
        ]
    }

    /// Values: mostly plain strings, numbers and literals; some escaped,
    /// bad, nested or missing.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "\"[a-z0-9 :&=é]{0,12}\"",
            2 => prop::sample::select(vec!["10000.00", "-1", "0", "1e5", "-0.5E-3", "true", "false", "null"])
                .prop_map(str::to_owned),
            1 => prop::sample::select(vec![
                r#""x\"y""#,
                r#""\n""#,
                "\"\u{1}\"",
                "01",
                "1.",
                "-",
                "nul",
                "tru",
                "{}",
                r#"{"a":1}"#,
                "[1,2]",
                "",
                "\"unterminated",
            ])
            .prop_map(str::to_owned),
        ]
    }

    /// Whitespace, mostly none, sometimes not whitespace.
    fn gap() -> impl Strategy<Value = String> {
        prop_oneof![
            12 => Just(String::new()),
            2 => Just(" ".to_owned()),
            1 => Just("\n\t\r ".to_owned()),
            1 => Just("x".to_owned()),
        ]
    }

    /// A body made of members, separators and closers, mostly well formed.
    fn body() -> impl Strategy<Value = String> {
        let member = (gap(), key(), gap(), gap(), value(), gap())
            .prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"));
        (
            gap(),
            prop::collection::vec(member, 0..8),
            prop_oneof![8 => Just(","), 1 => Just(";"), 1 => Just("")],
            any::<bool>(),
            prop_oneof![8 => Just("}"), 1 => Just("} "), 1 => Just("}x"), 1 => Just(""), 1 => Just("}}")],
        )
            .prop_map(|(lead, members, separator, trailing, close)| {
                let mut body = format!("{lead}{{{}", members.join(separator));
                if trailing {
                    body.push(',');
                }
                body.push_str(close);
                body
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// Wherever the one-pass reading answers, the full reader reads
        /// the same fields, in the same order, with the same texts; and it
        /// says that no key or text holds `&` or `=` exactly when none does.
        #[test]
        fn fast_and_full_readings_agree(body in body()) {
            if let Some(fast) = plain(&body) {
                let separated = |text: &str| text.contains(['&', '=']);
                let none = !fast.of(&body).texts().any(|(k, v)| separated(k) || separated(v));
                prop_assert_eq!(fast.of(&body).separator_free(), none, "{}", body);
                let full = parse_json_ref(body.as_bytes(), Message::Notification);
                prop_assert!(full.is_ok(), "{body}: {full:?}");
                let full = Fields::from_read(full.unwrap_or_default(), &body).expect("small");
                prop_assert_eq!(fast.of(&body), full.of(&body), "{}", body);
                let sorted = |fields: &Fields| fields.sorted.as_slice().to_vec();
                prop_assert_eq!(sorted(&fast), sorted(&full));
            }
        }
    }

    #[test]
    fn a_plain_notification_is_read_in_one_pass_and_the_rest_falls_back() {
        let body = r#"{"order_id":"ET1","pay_amount":10000.00,"ok":true,"sign":"x",}"#;
        let fields = plain(body).expect("plain");
        assert_eq!(fields.of(body).text("pay_amount"), Some("10000.00"));
        assert_eq!(
            fields.of(body).to_json(),
            r#"{"order_id":"ET1","pay_amount":10000.00,"ok":true,"sign":"x"}"#
        );
        assert_eq!(
            fields.of(body).get("ok").map(|v| v.kind()),
            Some(ValueKind::Bool)
        );
        for other in [
            r#"{"a":"\u0041"}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":01}"#,
            "\u{feff}{}",
        ] {
            assert!(plain(other).is_none(), "{other}");
        }
    }

    #[test]
    fn keys_that_share_a_prefix_sort_by_their_bytes_and_a_repeat_among_them_is_found() {
        let body = r#"{"refund_order_no":"3","refund_order_id":"2","refund_o":"1","sign":"x"}"#;
        let fields = plain(body).expect("plain");
        let sorted: Vec<&str> = fields
            .of(body)
            .with_pairs(|_, sorted| sorted.iter().map(|(key, _)| *key).collect());
        assert_eq!(
            sorted,
            ["refund_o", "refund_order_id", "refund_order_no", "sign"]
        );
        let repeated = r#"{"refund_order_id":"2","refund_o":"1","refund_order_id":"3"}"#;
        assert!(plain(repeated).is_none());
    }

    #[test]
    fn many_fields_spill_to_the_heap_and_stay_sorted() {
        let body: String = (0..40)
            .rev()
            .map(|i| format!("\"k{i:02}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let body = format!("{{{body}}}");
        let fields = plain(&body).expect("plain");
        let read = fields.of(&body);
        assert_eq!(read.len(), 40);
        assert_eq!(read.text("k07"), Some("7"));
        read.with_pairs(|received, sorted| {
            assert_eq!(received.first(), Some(&("k39", "39")));
            assert_eq!(sorted.first(), Some(&("k00", "0")));
        });
    }
}
