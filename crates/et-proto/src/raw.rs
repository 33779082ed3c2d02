//! Reading and writing flat JSON objects while keeping every value's wire text.
//!
//! Signatures cover the values *as transmitted* (`10000.00` is not
//! `10000.0`), so envelopes and notifications are never parsed into native
//! numbers: [`UntypedObject`] keeps each top-level value's exact JSON text and, for
//! strings, their unescaped content. The reader is tolerant of trailing commas
//! (ET's own notification examples contain one) and strict about everything
//! else; duplicate keys are rejected because they would make the signed text
//! ambiguous.

use std::borrow::Cow;
use std::collections::HashSet;

use et_model::{json_number_len, push_json_string};

use crate::error::{Error, Input, Message};

/// Nesting limit for values inside an object; deeper input is rejected
/// instead of exhausting the stack.
const MAX_DEPTH: usize = 64;

/// Up to this many keys, duplicates are found by comparing every pair:
/// cheaper than hashing for a notification's handful of fields.
const SMALL_OBJECT: usize = 16;

/// The JSON type of a [`UntypedValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A JSON string (or a form-urlencoded value).
    String,
    /// A JSON number; its text is kept exactly (`10000.00`).
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// A nested object, kept as its raw JSON text.
    Object,
    /// A nested array, kept as its raw JSON text.
    Array,
}

/// One value with its wire form.
///
/// [`text`](Self::text) is what goes into sign strings: a string's unescaped
/// content, and for every other kind the exact JSON text received (numbers as
/// written, `true`/`false`/`null` literally, nested objects and arrays as
/// their raw JSON — ET never sends those at the top level of a signed object).
///
/// The text is stored only when it differs from the JSON text (a string
/// with escapes); otherwise it is a slice of the JSON text, which saves an
/// allocation per value on the notification hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntypedValue {
    kind: ValueKind,
    json: String,
    /// A string's content, only when it is not the JSON text minus its quotes.
    unescaped: Option<String>,
}

impl UntypedValue {
    /// A string value.
    pub fn string(value: impl Into<String>) -> Self {
        let text = value.into();
        let json = json_quote(&text);
        let unescaped = (string_inner(&json) != text).then_some(text);
        UntypedValue {
            kind: ValueKind::String,
            json,
            unescaped,
        }
    }

    /// An integer value, written as plain decimal.
    pub fn integer(value: i64) -> Self {
        UntypedValue {
            kind: ValueKind::Number,
            json: value.to_string(),
            unescaped: None,
        }
    }

    /// Any single JSON value given as text (whitespace around it is dropped).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let mut scanner = Scanner::new(text, Input::Value);
        scanner.skip_ws();
        let value = scanner.value(0)?;
        scanner.skip_ws();
        scanner.expect_end()?;
        Ok(value.to_value())
    }

    /// The JSON type.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The value as it enters a sign string (see the type docs).
    pub fn text(&self) -> &str {
        match (&self.unescaped, self.kind) {
            (Some(text), _) => text,
            (None, ValueKind::String) => string_inner(&self.json),
            (None, _) => &self.json,
        }
    }

    /// The exact JSON text (strings with their quotes and escapes).
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// A value read in place: its text borrows the body unless escapes had to
/// be decoded. What [`NotificationVerifier::verify`](crate::NotificationVerifier::verify)
/// keeps per field, so that verifying copies no field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntypedValueRef<'a> {
    kind: ValueKind,
    /// The exact JSON text; `None` for a form or multipart string.
    json: Option<&'a str>,
    text: Cow<'a, str>,
}

impl<'a> UntypedValueRef<'a> {
    /// A string read from a form (no JSON text of its own).
    pub(crate) fn form(text: Cow<'a, str>) -> Self {
        UntypedValueRef {
            kind: ValueKind::String,
            json: None,
            text,
        }
    }

    /// A value whose texts are kept elsewhere.
    pub(crate) fn borrowed(kind: ValueKind, json: Option<&'a str>, text: &'a str) -> Self {
        UntypedValueRef {
            kind,
            json,
            text: Cow::Borrowed(text),
        }
    }

    /// The JSON type.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The exact JSON text; `None` for a form or multipart value.
    pub fn json(&self) -> Option<&'a str> {
        self.json
    }

    /// The value as it enters a sign string (see [`UntypedValue::text`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The owned value, as [`UntypedObject`] keeps it.
    pub fn to_value(&self) -> UntypedValue {
        match self.json {
            Some(json) => UntypedValue {
                kind: self.kind,
                json: json.to_owned(),
                unescaped: (self.kind == ValueKind::String && string_inner(json) != self.text)
                    .then(|| self.text.clone().into_owned()),
            },
            None => UntypedValue::string(self.text.clone()),
        }
    }
}

impl<'a> From<&'a UntypedValue> for UntypedValueRef<'a> {
    fn from(value: &'a UntypedValue) -> Self {
        UntypedValueRef {
            kind: value.kind,
            json: Some(&value.json),
            text: Cow::Borrowed(value.text()),
        }
    }
}

/// Fields read in place, keys in received order, duplicates refused.
pub(crate) type FieldsRef<'a> = Vec<(Cow<'a, str>, UntypedValueRef<'a>)>;

/// A flat JSON object (or form body): keys in received order, raw values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UntypedObject {
    entries: Vec<(String, UntypedValue)>,
}

impl UntypedObject {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a JSON object. `context`, the message it is, names the input in
    /// errors. Trailing commas are accepted; duplicate keys are not.
    pub fn parse_json(body: &[u8], context: Message) -> Result<Self, Error> {
        parse_json_ref(body, context).map(UntypedObject::from_fields)
    }

    /// An object owning fields read in place (already free of repeats).
    pub(crate) fn from_fields(fields: FieldsRef<'_>) -> Self {
        UntypedObject {
            entries: fields
                .into_iter()
                .map(|(key, value)| (key.into_owned(), value.to_value()))
                .collect(),
        }
    }

    /// Reads an `application/x-www-form-urlencoded` body; every value is a string.
    pub fn parse_form(body: &[u8]) -> Result<Self, Error> {
        parse_form_ref(body).map(UntypedObject::from_fields)
    }

    /// The entries as borrowed fields.
    pub(crate) fn fields_ref(&self) -> FieldsRef<'_> {
        self.iter()
            .map(|(key, value)| (Cow::Borrowed(key), UntypedValueRef::from(value)))
            .collect()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&UntypedValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The sign-string text under `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).map(UntypedValue::text)
    }

    /// The sign-string text under `key`, or [`Error::MissingField`].
    pub fn require(&self, key: &'static str) -> Result<&str, Error> {
        self.text(key).ok_or(Error::MissingField(key))
    }

    /// Sets `key`: replaces the value in place if present, else appends.
    pub fn insert(&mut self, key: impl Into<String>, value: UntypedValue) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Renames `from` to `to` in place, its position and value kept;
    /// nothing happens when there is no `from` or `to` is taken already.
    pub(crate) fn rename(&mut self, from: &str, to: &str) {
        if self.get(to).is_some() {
            return;
        }
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| k == from) {
            to.clone_into(&mut slot.0);
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<UntypedValue> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &UntypedValue)> + Clone {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// An `application/x-www-form-urlencoded` body, keys in order, each
    /// value as its [`text`](UntypedValue::text) (`10000.00` stays
    /// `10000.00`): what [`parse_form`](Self::parse_form) reads back with
    /// the same sign string.
    pub fn to_form(&self) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (key, value) in self.iter() {
            form.append_pair(key, value.text());
        }
        form.finish()
    }

    /// Compact JSON text, keys in order, each value's raw JSON written verbatim.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, key);
            out.push(':');
            out.push_str(&value.json);
        }
        out.push('}');
        out
    }
}

impl<K: Into<String>> FromIterator<(K, UntypedValue)> for UntypedObject {
    fn from_iter<I: IntoIterator<Item = (K, UntypedValue)>>(iter: I) -> Self {
        let mut object = UntypedObject::new();
        for (key, value) in iter {
            object.insert(key, value);
        }
        object
    }
}

/// Reads a JSON object in place (see [`UntypedObject::parse_json`]).
pub(crate) fn parse_json_ref<'a>(body: &'a [u8], context: Message) -> Result<FieldsRef<'a>, Error> {
    let context = Input::Json(context);
    let text = std::str::from_utf8(body).map_err(|e| {
        let (line, column) = line_column(body, e.valid_up_to());
        Error::MalformedJson {
            context,
            line,
            column,
            reason: "invalid UTF-8",
        }
    })?;
    let mut scanner = Scanner::new(text, context);
    scanner.skip_bom();
    scanner.skip_ws();
    // Room for a typical notification without regrowing.
    let mut entries = Vec::with_capacity(8);
    scanner.object(0, &mut |key, value| entries.push((key, value)))?;
    scanner.skip_ws();
    scanner.expect_end()?;
    refuse_repeated(entries.iter().map(|(k, _)| k.as_ref()), context)?;
    Ok(entries)
}

/// Reads a form body in place (see [`UntypedObject::parse_form`]): a value
/// without `%` or `+` escapes borrows the body.
pub(crate) fn parse_form_ref(body: &[u8]) -> Result<FieldsRef<'_>, Error> {
    if std::str::from_utf8(body).is_err() {
        return Err(Error::NotUtf8 {
            context: Input::Form,
        });
    }
    let mut entries = Vec::with_capacity(8);
    entries.extend(
        form_urlencoded::parse(body).map(|(key, value)| (key, UntypedValueRef::form(value))),
    );
    refuse_repeated(entries.iter().map(|(k, _)| k.as_ref()), Input::Form)?;
    Ok(entries)
}

/// Refuses a repeated key. A hash set keeps this linear: a body of many
/// keys must not cost quadratic time before its signature is even checked.
/// A few keys are compared pairwise instead, which costs less than hashing.
pub(crate) fn refuse_repeated<'k>(
    keys: impl Iterator<Item = &'k str> + Clone,
    context: Input,
) -> Result<(), Error> {
    let repeated = if keys.clone().nth(SMALL_OBJECT).is_none() {
        keys.clone()
            .enumerate()
            .find(|&(i, key)| keys.clone().take(i).any(|earlier| earlier == key))
            .map(|(_, key)| key)
    } else {
        let mut seen = HashSet::new();
        keys.clone().find(|k| !seen.insert(*k))
    };
    match repeated {
        Some(key) => Err(Error::DuplicateKey {
            context,
            key: key.to_owned(),
        }),
        None => Ok(()),
    }
}

fn json_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_json_string(&mut out, text);
    out
}

/// A JSON string literal's text between its quotes.
fn string_inner(json: &str) -> &str {
    json.get(1..json.len().saturating_sub(1))
        .unwrap_or_default()
}

fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    let before = input.get(..offset).unwrap_or(input);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, offset - line_start + 1)
}

/// Where the first `"`, `\\` or control character of `bytes` is: what ends
/// a run of plain string content.
pub(crate) fn plain_run(bytes: &[u8]) -> Option<usize> {
    run_until(bytes, [b'"', b'\\'])
}

/// Where the first control character or byte of `stops` (each ASCII and
/// not one) is in `bytes`. Eight bytes are tested at a time, so the long
/// Base64 strings of an envelope scan fast: the bit tricks below mark the
/// bytes of a word that are zero or under 0x20, and while a borrow may also
/// mark bytes after a marked one, the lowest mark is always a byte that is
/// (so the first stop byte is the word's lowest mark). Inlined: the plain
/// JSON reader runs it for every key and value.
#[inline(always)]
pub(crate) fn run_until<const N: usize>(bytes: &[u8], stops: [u8; N]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    let stop = |b: &u8| *b < b' ' || stops.contains(b);
    let mut plain = 0;
    for word in bytes.chunks_exact(8) {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        let mut marks = below(x, 0x20);
        for byte in stops {
            marks |= below(x ^ (ONES * u64::from(byte)), 1);
        }
        if marks != 0 {
            // Little-endian: the lowest mark is the first byte in the text.
            return Some(plain + (marks.trailing_zeros() / 8) as usize);
        }
        plain += 8;
    }
    let rest = bytes.get(plain..).unwrap_or_default();
    rest.iter().position(stop).map(|at| plain + at)
}

struct Scanner<'a> {
    input: &'a str,
    pos: usize,
    context: Input,
}

impl<'a> Scanner<'a> {
    fn new(input: &'a str, context: Input) -> Self {
        Scanner {
            input,
            pos: 0,
            context,
        }
    }

    fn error(&self, reason: &'static str) -> Error {
        let (line, column) = line_column(self.input.as_bytes(), self.pos);
        Error::MalformedJson {
            context: self.context,
            line,
            column,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn eat(&mut self, byte: u8, reason: &'static str) -> Result<(), Error> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn skip_bom(&mut self) {
        if self.input.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect_end(&self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("unexpected text after the value")),
        }
    }

    /// Reads `{ "key": value, ... }`, trailing comma allowed, calling
    /// `member` for each pair.
    fn object(
        &mut self,
        depth: usize,
        member: &mut dyn FnMut(Cow<'a, str>, UntypedValueRef<'a>),
    ) -> Result<(), Error> {
        let reasons = ["expected '{'", "expected ',' or '}'"];
        self.delimited(b'{', b'}', reasons, |s| {
            if s.peek() != Some(b'"') {
                return Err(s.error("expected a string key or '}'"));
            }
            let key = s.string()?;
            s.skip_ws();
            s.eat(b':', "expected ':' after a key")?;
            s.skip_ws();
            member(key, s.value(depth)?);
            Ok(())
        })
    }

    fn array(&mut self, depth: usize) -> Result<(), Error> {
        let reasons = ["expected '['", "expected ',' or ']'"];
        self.delimited(b'[', b']', reasons, |s| s.value(depth).map(drop))
    }

    /// Reads `open item, item, ... close`, trailing comma allowed; `reasons`
    /// say what was expected instead of `open` and of `,`/`close`.
    fn delimited(
        &mut self,
        open: u8,
        close: u8,
        [no_open, no_separator]: [&'static str; 2],
        mut item: impl FnMut(&mut Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.eat(open, no_open)?;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(());
            }
            item(self)?;
            self.skip_ws();
            match self.bump() {
                Some(b',') => {}
                Some(byte) if byte == close => return Ok(()),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.error(no_separator));
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<UntypedValueRef<'a>, Error> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'"') => {
                let text = self.string()?;
                return Ok(UntypedValueRef {
                    kind: ValueKind::String,
                    json: Some(self.slice(start)),
                    text,
                });
            }
            Some(b'{' | b'[') if depth >= MAX_DEPTH => {
                return Err(self.error("nesting too deep"));
            }
            Some(b'{') => {
                self.object(depth + 1, &mut |_, _| {})?;
                ValueKind::Object
            }
            Some(b'[') => {
                self.array(depth + 1)?;
                ValueKind::Array
            }
            Some(b't') => self.literal("true", ValueKind::Bool)?,
            Some(b'f') => self.literal("false", ValueKind::Bool)?,
            Some(b'n') => self.literal("null", ValueKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error("expected a value")),
        };
        let json = self.slice(start);
        Ok(UntypedValueRef {
            kind,
            json: Some(json),
            text: Cow::Borrowed(json),
        })
    }

    fn slice(&self, start: usize) -> &'a str {
        self.input.get(start..self.pos).unwrap_or_default()
    }

    fn literal(&mut self, word: &'static str, kind: ValueKind) -> Result<ValueKind, Error> {
        if self
            .input
            .get(self.pos..)
            .is_some_and(|s| s.starts_with(word))
        {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("unknown literal"))
        }
    }

    fn number(&mut self) -> Result<ValueKind, Error> {
        let rest = self.input.as_bytes().get(self.pos..).unwrap_or_default();
        match json_number_len(rest) {
            Ok(len) => {
                self.pos += len;
                Ok(ValueKind::Number)
            }
            Err((at, reason)) => {
                self.pos += at;
                Err(self.error(reason))
            }
        }
    }

    /// Reads a string literal and returns its unescaped content: borrowed
    /// from the input when it has no escapes, owned (and then always
    /// different from the raw text) when it has.
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        self.eat(b'"', "expected '\"'")?;
        let mut unescaped: Option<String> = None;
        loop {
            let rest = self.input.as_bytes().get(self.pos..).unwrap_or_default();
            // All three stop bytes are ASCII, so `run` ends on a char boundary.
            let run = plain_run(rest).ok_or_else(|| self.error("unterminated string"))?;
            let chunk = self.input.get(self.pos..self.pos + run).unwrap_or_default();
            self.pos += run;
            match self.bump() {
                Some(b'"') => {
                    return Ok(match unescaped {
                        None => Cow::Borrowed(chunk),
                        Some(mut out) => {
                            out.push_str(chunk);
                            Cow::Owned(out)
                        }
                    })
                }
                Some(b'\\') => {
                    let out = unescaped.get_or_insert_with(String::new);
                    out.push_str(chunk);
                    self.escape(out)?;
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.error("control character in string"));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let c = match self.bump() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => self.unicode_escape()?,
            _ => return Err(self.error("bad escape")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let hex = self
            .input
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("bad \\u escape"))?;
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|_| self.error("bad \\u escape"))
    }

    fn unicode_escape(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.input.get(self.pos..self.pos + 2) != Some("\\u") {
                return Err(self.error("unpaired surrogate"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("unpaired surrogate"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any bytes, stop bytes and borrows among them: the run ends where
        /// a byte-by-byte search says.
        #[test]
        fn plain_run_ends_at_the_first_stop_byte(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => proptest::prelude::any::<u8>(),
                    1 => proptest::sample::select(vec![b'"', b'\\', b'&', b'=', 0, 1, 0x1f, 0x20, 0x21, 0x25, 0x26, 0x3c, 0x3d, 0x5b, 0x5d, 0x80, 0xff]),
                ],
                0..40,
            )
        ) {
            let stop = |b: &u8| *b == b'"' || *b == b'\\' || *b < b' ';
            proptest::prop_assert_eq!(plain_run(&bytes), bytes.iter().position(stop));
            let stop = |b: &u8| stop(b) || *b == b'&' || *b == b'=';
            let stops = [b'"', b'\\', b'&', b'='];
            proptest::prop_assert_eq!(run_until(&bytes, stops), bytes.iter().position(stop));
        }
    }

    #[test]
    fn plain_run_finds_every_stop_byte_at_every_offset() {
        for len in 0..40 {
            let plain: Vec<u8> = (0..len).map(|i| b"aZ9+/=~\xc3\xa9 "[i % 10]).collect();
            assert_eq!(plain_run(&plain), None);
            for at in 0..len {
                for stop in [b'"', b'\\', b'\n', 0, 0x1f] {
                    let mut text = plain.clone();
                    text[at] = stop;
                    assert_eq!(plain_run(&text), Some(at), "{stop} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn keeps_number_text_and_unescapes_strings() {
        let body =
            br#"{"a":10000.00,"b":"x\"\u00e9\ud83d\ude00","c":[1, {"d":2}],"e":true,"f":null}"#;
        let obj = UntypedObject::parse_json(body, Message::Response).unwrap();
        assert_eq!(obj.text("a"), Some("10000.00"));
        assert_eq!(obj.text("b"), Some("x\"é😀"));
        assert_eq!(obj.get("b").unwrap().json(), r#""x\"\u00e9\ud83d\ude00""#);
        assert_eq!(obj.text("c"), Some(r#"[1, {"d":2}]"#));
        assert_eq!(obj.get("c").unwrap().kind(), ValueKind::Array);
        assert_eq!(obj.text("e"), Some("true"));
        assert_eq!(obj.text("f"), Some("null"));
    }

    #[test]
    fn text_is_stored_once_unless_escapes_make_it_differ() {
        let obj =
            UntypedObject::parse_json(br#"{"a":"x y","b":"\u0041","c":""}"#, Message::Response)
                .unwrap();
        assert_eq!(obj.get("a"), Some(&UntypedValue::string("x y")));
        assert_eq!(obj.get("a").unwrap().unescaped, None);
        assert_eq!(obj.text("b"), Some("A"));
        assert_ne!(obj.get("b"), Some(&UntypedValue::string("A")));
        assert_eq!(obj.text("c"), Some(""));
        let quoted = UntypedValue::string("say \"hi\"\n");
        assert_eq!(quoted.json(), r#""say \"hi\"\n""#);
        assert_eq!(quoted.text(), "say \"hi\"\n");
        assert_eq!(UntypedValue::integer(-5).text(), "-5");
    }

    #[test]
    fn accepts_trailing_comma_as_in_et_voucher_example() {
        let body = b"{\n    \"order_id\": \"ET1\",\n    \"sign\": \"xxxxxx\",\n}";
        let obj = UntypedObject::parse_json(body, Message::Notification).unwrap();
        assert_eq!(obj.len(), 2);
        assert_eq!(obj.text("sign"), Some("xxxxxx"));
    }

    #[test]
    fn reports_position_of_missing_comma() {
        let body = b"{\n\"a\": \"1\"\n\"b\": 1}";
        match UntypedObject::parse_json(body, Message::Notification) {
            Err(Error::MalformedJson { line, column, .. }) => assert_eq!((line, column), (3, 1)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_input_by_type() {
        assert_eq!(
            UntypedObject::parse_json(b"{\"a\":}", Message::Request),
            Err(Error::MalformedJson {
                context: Input::Json(Message::Request),
                line: 1,
                column: 6,
                reason: "expected a value",
            })
        );
        let form = UntypedObject::parse_form(b"a=1&a=2").unwrap_err();
        assert_eq!(
            form,
            Error::DuplicateKey {
                context: Input::Form,
                key: "a".to_owned()
            }
        );
        assert_eq!(form.to_string(), "duplicate key `a` in form body");
        assert_eq!(
            UntypedValue::from_json("[").unwrap_err().to_string(),
            "malformed JSON in JSON value at line 1, column 2: expected a value"
        );
        let latin1 = UntypedObject::parse_json(b"{\"a\":\"\xe9\"}", Message::Notification);
        assert_eq!(
            latin1.unwrap_err().to_string(),
            "malformed JSON in notification at line 1, column 7: invalid UTF-8"
        );
    }

    #[test]
    fn rejects_duplicates_bad_numbers_and_deep_nesting() {
        assert!(matches!(
            UntypedObject::parse_json(br#"{"a":1,"a":2}"#, Message::Response),
            Err(Error::DuplicateKey { .. })
        ));
        for bad in [
            &br#"{"a":01}"#[..],
            br#"{"a":1.}"#,
            br#"{"a":-}"#,
            b"{} x",
            b"[]",
        ] {
            assert!(UntypedObject::parse_json(bad, Message::Response).is_err());
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(UntypedObject::parse_json(deep.as_bytes(), Message::Response).is_err());
    }

    /// 100,000 keys (1 MB, well under the client's 4 MiB response limit)
    /// took 46 s in a debug build with the former quadratic duplicate check;
    /// it now takes milliseconds, so a regression shows as a slow suite.
    #[test]
    fn many_keys_are_read_and_checked_for_duplicates_in_linear_time() {
        let mut body = String::from("{");
        for i in 0..100_000 {
            body.push_str(&format!("\"k{i}\":1,"));
        }
        let unique = format!("{body}}}");
        assert_eq!(
            UntypedObject::parse_json(unique.as_bytes(), Message::Response)
                .unwrap()
                .len(),
            100_000
        );
        let repeated = format!("{body}\"k99999\":2}}");
        assert_eq!(
            UntypedObject::parse_json(repeated.as_bytes(), Message::Response),
            Err(Error::DuplicateKey {
                context: Input::Json(Message::Response),
                key: "k99999".to_owned()
            })
        );
        let form: String = (0..100_000).map(|i| format!("k{i}=1&")).collect();
        assert!(matches!(
            UntypedObject::parse_form(format!("{form}k0=2").as_bytes()),
            Err(Error::DuplicateKey { .. })
        ));
    }

    #[test]
    fn form_values_are_strings_and_writes_round_trip() {
        let obj = UntypedObject::parse_form(
            b"pay_amount=10000.00&pay_datetime=2024-12-01+10%3A00%3A00&extend_info=",
        )
        .unwrap();
        assert_eq!(obj.text("pay_datetime"), Some("2024-12-01 10:00:00"));
        assert_eq!(obj.text("extend_info"), Some(""));
        let again =
            UntypedObject::parse_json(obj.to_json().as_bytes(), Message::Notification).unwrap();
        assert_eq!(again, obj);
    }
}
