//! Asynchronous notifications (ET → merchant): reading, salted-MD5
//! verification, classification, deduplication and acknowledgement — and,
//! for ET's side, signing.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use et_crypto::SaltedMd5;
use et_model::{Notification, NotificationKind};
use zeroize::Zeroizing;

use crate::error::{Error, Input, Message};
use crate::fields::{Fields, NotificationFields};
use crate::profile::NotifySignRule;
use crate::raw::{
    parse_form_ref, parse_json_ref, FieldsRef, UntypedObject, UntypedValue, UntypedValueRef,
};
use crate::rollover::{self, Accepted, VerifiedBy};
use crate::shape;
use crate::sign::{
    sign_string, sign_string_of, v1_printed_string, write_sorted, write_v1_printed, SignRule,
    SIGN_KEY,
};

/// Body that tells ET the notification was received (spec 04 §2.1).
pub const ACK_OK: &[u8] = br#"{"notify_result":"OK"}"#;
/// Body that makes ET deliver the notification again: anything but `OK`
/// counts as a failure (spec 04 §2.1).
pub const ACK_FAIL: &[u8] = br#"{"notify_result":"FAIL"}"#;

/// Which rule a notification's signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedRule {
    /// Salt + sorted `key=value&…` (v2, spec 04 §3.1).
    V2,
    /// Salt + the v1 page's printed form (spec 04 §3.2).
    V1Printed,
}

/// Verifies notifications with the merchant's salt (and, during a
/// rollover, with each accepted salt in turn: [`crate::Accepted`]).
pub struct NotificationVerifier {
    salt: Zeroizing<String>,
    accepted: Vec<Accepted<Zeroizing<String>>>,
    rule: NotifySignRule,
    extra_fields: Vec<String>,
    exact: bool,
}

impl fmt::Debug for NotificationVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationVerifier")
            .field("salt", &"<redacted>")
            .field("accepted", &self.accepted)
            .field("rule", &self.rule)
            .field("extra_fields", &self.extra_fields)
            .field("exact", &self.exact)
            .finish()
    }
}

impl NotificationVerifier {
    /// A verifier for `salt` under `rule` (usually `profile.notify_sign_rule`).
    pub fn new(salt: impl Into<String>, rule: NotifySignRule) -> Self {
        NotificationVerifier {
            salt: Zeroizing::new(salt.into()),
            accepted: Vec::new(),
            rule,
            extra_fields: Vec::new(),
            exact: false,
        }
    }

    /// Also accepts these salts, tried in turn after the current one (a
    /// salt's rollover); a notification names the salt that verified it
    /// ([`VerifiedNotification::verified_by`]) and a refund result is
    /// acknowledged with that salt.
    pub fn with_accepted_salts(
        mut self,
        salts: impl IntoIterator<Item = Accepted<Zeroizing<String>>>,
    ) -> Self {
        self.accepted.extend(salts);
        self
    }

    /// Refuses, for a known kind, any field outside its documented set and
    /// the named extras (usually [`Profile::exact_keys`](crate::Profile::exact_keys)).
    /// Default off: fields ET adds are kept
    /// ([`VerifiedNotification::added_fields`]).
    pub fn with_exact_fields(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    /// Guards these fields like the documented ones (usually
    /// [`Profile::extra_notification_fields`](crate::Profile::extra_notification_fields)):
    /// no value may hold `&field=`, and a named field is accepted where an
    /// unnamed one could have been carved out of its neighbour.
    pub fn with_extra_fields(mut self, fields: impl IntoIterator<Item = String>) -> Self {
        self.extra_fields = fields.into_iter().collect();
        self
    }

    /// Reads `body` (JSON, form-urlencoded or multipart, chosen by
    /// `content_type` or sniffed when it is absent or unknown: JSON when it
    /// starts with `{`, a form otherwise; a leading UTF-8 byte order mark
    /// is not part of the body), verifies its
    /// MD5 `sign`, checks its signed shape and tells its kind — without
    /// copying a field: the view borrows `body` (a value is copied only when
    /// escapes had to be decoded). The typed event is built on demand
    /// ([`NotificationView::notification`], [`NotificationView::to_verified`]).
    ///
    /// After the signature, the signed shape is checked ([`Error::Shape`]):
    /// no key holding `&` or `=`, no value holding `&<field>=` for a
    /// documented field, and for a known kind no field of another kind, no
    /// `&` in a field we act on, no optional acted field that could be
    /// carved out of its neighbour — otherwise the signed text could be read
    /// as another notification than the one ET signed. Fields ET added are
    /// kept (unless [`with_exact_fields`](Self::with_exact_fields)).
    ///
    /// An accepted salt verifies only while in force at `now` (the
    /// caller's clock, usually `SystemTime::now()`: this crate reads none).
    pub fn verify<'a>(
        &'a self,
        content_type: Option<&str>,
        body: &'a [u8],
        now: SystemTime,
    ) -> Result<NotificationView<'a>, Error> {
        let mut fields = Fields::new();
        let (text, sniffed) = read(content_type, body, &mut fields)?;
        let checked = self.check(text, &fields, sniffed, now)?;
        Ok(NotificationView::new(text, fields, checked))
    }

    /// [`verify`](Self::verify), then the owned, typed notification
    /// ([`NotificationView::to_verified`]): what a webhook handler receives.
    pub fn verify_owned(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedNotification, Error> {
        self.verify(content_type, body, now)?.into_verified()
    }

    /// For a body that failed [`verify`](Self::verify) under the v2 rule
    /// only: whether it verifies under [`NotifySignRule::V1Compat`] (the v1
    /// page's printed form), so that a receiver can say which setting
    /// would accept it. `None` otherwise (one more MD5, no allocation of a
    /// typed event).
    pub fn verifies_under_other_rule(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Option<NotifySignRule> {
        if self.rule != NotifySignRule::V2 {
            return None;
        }
        let lenient = NotificationVerifier {
            salt: self.salt.clone(),
            accepted: self.accepted.clone(),
            rule: NotifySignRule::V1Compat,
            extra_fields: self.extra_fields.clone(),
            exact: self.exact,
        };
        let view = lenient.verify(content_type, body, now).ok()?;
        (view.matched_rule() == MatchedRule::V1Printed).then_some(NotifySignRule::V1Compat)
    }

    /// Verifies and types fields already read (see [`verify`](Self::verify)).
    pub fn verify_fields(
        &self,
        fields: UntypedObject,
        now: SystemTime,
    ) -> Result<VerifiedNotification, Error> {
        let fields = Fields::from_object(&fields)?;
        let checked = self.check("", &fields, None, now)?;
        NotificationView::new("", fields, checked).into_verified()
    }

    /// The signature and shape checks of [`verify`](Self::verify), over
    /// `fields` read from `body` (`sniffed` as what, when the content type
    /// did not say), sorted once, for the hash and the shape. The fields
    /// are lent, not moved: the table is moved once, into the view.
    fn check<'a>(
        &'a self,
        body: &'a str,
        fields: &Fields,
        sniffed: Option<Input>,
        now: SystemTime,
    ) -> Result<Checked<'a>, Error> {
        self.check_fields(fields.of(body), now)
            .map_err(|e| match (e, sniffed) {
                (Error::MissingSignature { .. }, Some(read_as @ Input::Form)) => {
                    Error::UnsignedSniffedBody { read_as }
                }
                (e, _) => e,
            })
    }

    /// [`check`](Self::check) over the fields read: which kind, which
    /// rule, which salt. The sign string is hashed, and the shape checked,
    /// from the fields' bytes in sorted order where they lie: no table of
    /// pairs is built for them.
    fn check_fields(
        &self,
        fields: NotificationFields<'_>,
        now: SystemTime,
    ) -> Result<Checked<'_>, Error> {
        // `sign` is looked up only once the hashing is under way (see
        // `salted_md5_is`); without one, nothing matches and that is said.
        let sign = || fields.text(SIGN_KEY);
        let mismatch = || match sign() {
            Some(_) => Error::SignatureMismatch {
                what: Message::Notification,
            },
            None => Error::MissingSignature {
                what: Message::Notification,
            },
        };
        // Each salt in turn, each comparison constant-time and yes-or-no:
        // a failure says nothing of which salt came closest.
        let matches = |salt: &str| {
            if salted_md5_is(salt, sign, |md5| {
                write_sorted(fields.raw_sorted(), |piece| md5.write(piece))
            }) {
                Some(MatchedRule::V2)
            } else if self.rule == NotifySignRule::V1Compat
                && salted_md5_is(salt, sign, |md5| {
                    write_v1_printed(fields.raw(), |piece| md5.write(piece))
                })
            {
                Some(MatchedRule::V1Printed)
            } else {
                None
            }
        };
        let (matched, salt, salt_name) = rollover::in_turn(&self.salt, &self.accepted, now)
            .find_map(|(salt, name)| matches(salt).map(|rule| (rule, salt.as_str(), name)))
            .ok_or_else(mismatch)?;
        let kind = NotificationKind::detect_by(|key| fields.text(key));
        shape::check_notification(
            fields.texts(),
            fields.raw_sorted(),
            kind,
            &self.extra_fields,
            self.exact,
            fields.separator_free(),
        )?;
        Ok((kind, matched, salt, salt_name))
    }
}

/// What verified a notification: its kind, the rule its signature
/// matched, and the salt (with its name) that matched.
type Checked<'a> = (NotificationKind, MatchedRule, &'a str, &'a str);

/// Whether the MD5 of `salt` then what `write` feeds it is the `sign`
/// found (32 hex digits; anything else, or none, is not; compared in
/// constant time). The sign string is hashed piece by piece from where
/// each text lies, never joined into one string, a block at a time as soon
/// as one is gathered; `sign` is found and read after, while the last
/// block is still being hashed (MD5 is one long chain of dependent steps,
/// which leaves the processor room for other work).
fn salted_md5_is<'s>(
    salt: &str,
    sign: impl FnOnce() -> Option<&'s str>,
    write: impl FnOnce(&mut Gathered<'_>),
) -> bool {
    let mut md5 = SaltedMd5::new(salt.as_bytes());
    let mut gathered = Gathered {
        md5: &mut md5,
        buffer: [0; GATHERED],
        len: 0,
    };
    write(&mut gathered);
    gathered.flush();
    sign().is_some_and(|sign| md5.verify_hex(sign))
}

/// Bytes gathered before they go to MD5 at once: one block, so that
/// hashing starts while the rest is gathered.
const GATHERED: usize = 64;

/// The pieces of a sign string (`key`, `=`, `value`, `&`, …) gathered on
/// the stack and handed to MD5 a buffer at a time: one call per piece
/// would cost more than the hashing.
struct Gathered<'m> {
    md5: &'m mut SaltedMd5,
    buffer: [u8; GATHERED],
    len: usize,
}

impl Gathered<'_> {
    #[inline]
    fn write(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if let Some(room) = self.buffer.get_mut(self.len..end) {
            copy_short(room, piece);
            self.len = end;
            return;
        }
        self.flush();
        match self.buffer.get_mut(..piece.len()) {
            Some(room) => {
                room.copy_from_slice(piece);
                self.len = piece.len();
            }
            None => self.md5.update(piece),
        }
    }

    fn flush(&mut self) {
        self.md5
            .update(self.buffer.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

/// `dst.copy_from_slice(src)` (of the same length) without a call for a
/// piece of up to 32 bytes, as keys and most values are: two overlapping
/// copies of a fixed size, or a byte loop under four bytes.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    fn ends<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    match src.len() {
        0..4 => dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s),
        4..8 => ends::<4>(dst, src),
        8..16 => ends::<8>(dst, src),
        16..=32 => ends::<16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// The reply that stops ET's retries: `{"notify_result":"OK"}`, or for a
/// refund result `order_id`, `notify_result` and an MD5 `sign` with the
/// salt that verified the notification (spec 04 §4.4).
fn acknowledgement_for(salt: &str, notification: &Notification) -> Cow<'static, [u8]> {
    match notification {
        Notification::RefundResult(refund) => {
            Cow::Owned(refund_acknowledgement(salt, &refund.order_id))
        }
        _ => Cow::Borrowed(ACK_OK),
    }
}

/// A notification whose signature and signed shape verified, its fields
/// borrowed from the body: what [`NotificationVerifier::verify`] returns.
#[derive(Clone)]
pub struct NotificationView<'a> {
    body: &'a str,
    fields: Fields,
    kind: NotificationKind,
    matched: MatchedRule,
    salt: &'a str,
    salt_name: &'a str,
}

/// Shows the salt's name, never the salt.
impl fmt::Debug for NotificationView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationView")
            .field("fields", &self.fields())
            .field("kind", &self.kind)
            .field("matched", &self.matched)
            .field("verified_by", &self.salt_name)
            .finish_non_exhaustive()
    }
}

impl<'a> NotificationView<'a> {
    #[inline]
    fn new(body: &'a str, fields: Fields, checked: Checked<'a>) -> Self {
        let (kind, matched, salt, salt_name) = checked;
        NotificationView {
            body,
            fields,
            kind,
            matched,
            salt,
            salt_name,
        }
    }

    /// Which kind of event this is.
    pub fn kind(&self) -> NotificationKind {
        self.kind
    }

    /// Which signature rule matched.
    pub fn matched_rule(&self) -> MatchedRule {
        self.matched
    }

    /// The name of the salt that verified it ([`crate::CURRENT`] or an
    /// accepted salt's).
    pub fn verified_by(&self) -> &str {
        self.salt_name
    }

    /// Every field as received, `sign` included.
    pub fn fields(&self) -> NotificationFields<'_> {
        self.fields.of(self.body)
    }

    /// The sign-string text under `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields().text(key)
    }

    /// See [`VerifiedNotification::dedup_key`].
    pub fn dedup_key(&self) -> String {
        dedup_key(self.kind, self.fields())
    }

    /// The typed event, built now; [`Error::InvalidPayload`] when a value
    /// does not fit its kind (a result that is not a code, a bad amount, a
    /// missing field).
    pub fn notification(&self) -> Result<Notification, Error> {
        classify(self.fields())
    }

    /// The owned notification, typed, with its acknowledgement.
    pub fn to_verified(&self) -> Result<VerifiedNotification, Error> {
        self.clone().into_verified()
    }

    /// [`to_verified`](Self::to_verified), keeping the fields read: the
    /// owned notification holds one copy of the body and lends views of it.
    fn into_verified(self) -> Result<VerifiedNotification, Error> {
        let notification = self.notification()?;
        Ok(VerifiedNotification {
            acknowledgement: acknowledgement_for(self.salt, &notification),
            body: self.body.to_owned(),
            fields: self.fields,
            notification,
            matched: self.matched,
            verified_by: VerifiedBy::named(self.salt_name),
        })
    }
}

/// The typed event of verified fields, from the order they were sorted in
/// once.
fn classify(fields: NotificationFields<'_>) -> Result<Notification, Error> {
    fields
        .with_pairs(|_, sorted| Notification::classify_sorted(sorted))
        .map_err(Error::Notification)
}

/// A notification whose signature verified, typed and owned: its body in
/// one buffer, its fields lent from it.
#[derive(Clone)]
pub struct VerifiedNotification {
    body: String,
    fields: Fields,
    notification: Notification,
    matched: MatchedRule,
    verified_by: VerifiedBy,
    acknowledgement: Cow<'static, [u8]>,
}

/// Shows the fields and the salt's name (never a salt).
impl fmt::Debug for VerifiedNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedNotification")
            .field("fields", &self.fields())
            .field("notification", &self.notification)
            .field("matched", &self.matched)
            .field("verified_by", &self.verified_by)
            .field("acknowledgement", &self.acknowledgement)
            .finish()
    }
}

/// Equal when every field, the typed event, the rule, the salt's name and
/// the acknowledgement are.
impl PartialEq for VerifiedNotification {
    fn eq(&self, other: &Self) -> bool {
        self.fields() == other.fields()
            && self.notification == other.notification
            && self.matched == other.matched
            && self.verified_by == other.verified_by
            && self.acknowledgement == other.acknowledgement
    }
}

impl VerifiedNotification {
    /// The typed event.
    pub fn notification(&self) -> &Notification {
        &self.notification
    }

    /// Every field as received (raw text), `sign` included.
    pub fn fields(&self) -> NotificationFields<'_> {
        self.fields.of(&self.body)
    }

    /// The body to answer ET with once the event is safely stored:
    /// `{"notify_result":"OK"}`, or for a refund result `order_id`,
    /// `notify_result` and an MD5 `sign` by the same rule (spec 04 §4.4).
    /// Answer [`ACK_FAIL`] instead to have ET deliver it again.
    pub fn acknowledgement(&self) -> &[u8] {
        &self.acknowledgement
    }

    /// Which signature rule matched.
    pub fn matched_rule(&self) -> MatchedRule {
        self.matched
    }

    /// The salt that verified it ([`crate::CURRENT`] or an accepted salt's name).
    pub fn verified_by(&self) -> &VerifiedBy {
        &self.verified_by
    }

    /// Which kind of event this is.
    pub fn kind(&self) -> NotificationKind {
        self.notification.kind()
    }

    /// The fields ET sent that its pages do not document for this kind
    /// (every field of an unknown kind), as received; `sign` left out.
    /// A typed event keeps them in its `extra` too.
    pub fn added_fields(&self) -> impl Iterator<Item = (&str, UntypedValueRef<'_>)> {
        let kind = self.kind();
        self.fields()
            .iter()
            .filter(move |(key, _)| *key != SIGN_KEY && !shape::is_documented_for(kind, key))
    }

    /// Identifies the event, so that ET's up to 7 deliveries of one
    /// notification are handled once: kind, `order_id` and the fields that
    /// tell two events of one order apart (spec 04 §5 item 3). Unknown kinds
    /// use the whole sign string.
    pub fn dedup_key(&self) -> String {
        dedup_key(self.kind(), self.fields())
    }
}

/// The dedup key of `fields` of `kind`.
fn dedup_key(kind: NotificationKind, fields: NotificationFields<'_>) -> String {
    let distinguishing: &[&str] = match kind {
        NotificationKind::PaymentSuccess => &["order_id", "pay_result"],
        NotificationKind::OrderStatusChange => &["order_id", "order_status", "datetime"],
        NotificationKind::RefundResult => &["order_id", "refund_order_id", "refund_result"],
        NotificationKind::RemittanceVoucher => &["order_id", "remittance_voucher_url"],
        NotificationKind::Unknown => {
            let text = sign_string_of(fields.texts(), SignRule::AllSorted);
            let digest = et_crypto::md5_hex("", text);
            return format!("{}:{digest}", kind.as_str());
        }
    };
    let mut key = kind.as_str().to_owned();
    for field in distinguishing {
        key.push(':');
        key.push_str(fields.text(field).unwrap_or_default());
    }
    key
}

/// Reads a notification body into raw fields. JSON when `content_type` says
/// JSON, form-urlencoded when it says so; otherwise (absent, `text/plain`,
/// unknown) a body starting with `{` is JSON and anything else is a form.
pub fn read_notification_body(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<UntypedObject, Error> {
    let body = without_bom(body);
    let (reading, _) = reading(content_type, body)?;
    read_as(reading, content_type, body).map(UntypedObject::from_fields)
}

/// A UTF-8 byte order mark, which some senders put before a body.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a notification body whose content type does not say JSON or
/// form (or that has none) is read as JSON: when it starts with `{`, after
/// a UTF-8 byte order mark and whitespace. Otherwise it is read as a form.
pub fn sniffs_as_json(body: &[u8]) -> bool {
    without_bom(body).iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(UTF8_BOM).unwrap_or(body)
}

/// How a body is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Json,
    Form,
    Multipart,
}

/// How a body (its byte order mark left out) is read under `content_type`,
/// and, when the content type did not say (sniffed), what it was read as.
fn reading(content_type: Option<&str>, body: &[u8]) -> Result<(Reading, Option<Input>), Error> {
    // What ET sends, answered with one comparison.
    if content_type == Some("application/json") {
        return Ok((Reading::Json, None));
    }
    // Compared without lower-casing a copy: no allocation per notification.
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    let is = |name: &str| media == name || media.eq_ignore_ascii_case(name);
    let ends_with = |suffix: &str| {
        media
            .len()
            .checked_sub(suffix.len())
            .and_then(|start| media.get(start..))
            .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
    };
    Ok(if is("application/json") || ends_with("+json") {
        (Reading::Json, None)
    } else if is("application/x-www-form-urlencoded") {
        (Reading::Form, None)
    } else if is("multipart/form-data") {
        (Reading::Multipart, None)
    } else if media
        .get(.."multipart/".len())
        .is_some_and(|start| start.eq_ignore_ascii_case("multipart/"))
    {
        return Err(Error::UnsupportedContentType(media.to_ascii_lowercase()));
    } else if sniffs_as_json(body) {
        (Reading::Json, Some(Input::Json(Message::Notification)))
    } else {
        (Reading::Form, Some(Input::Form))
    })
}

/// The fields of `body` (its byte order mark left out) read as `reading`
/// says, by the full readers.
fn read_as<'a>(
    reading: Reading,
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<FieldsRef<'a>, Error> {
    match reading {
        Reading::Json => parse_json_ref(body, Message::Notification),
        Reading::Form => parse_form_ref(body),
        Reading::Multipart => {
            crate::multipart::parse_multipart(content_type.unwrap_or_default(), body)
        }
    }
}

/// Reads the fields of a notification body into `fields` (empty before),
/// and answers the text they lie in and what the body was read as when its
/// content type did not say (sniffed): a JSON body as ET sends it (no
/// escapes, no nesting) is read in one pass and its fields point into it;
/// any other body is read by the full readers ([`read_as`]), which give the
/// same fields, or the error.
fn read<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
    fields: &mut Fields,
) -> Result<(&'a str, Option<Input>), Error> {
    let body = without_bom(body);
    if u32::try_from(body.len()).is_err() {
        return Err(Error::NotificationTooLarge { len: body.len() });
    }
    let (reading, sniffed) = reading(content_type, body)?;
    let text = std::str::from_utf8(body);
    if let (Reading::Json, Ok(text)) = (reading, text) {
        if fields.read_plain_json(text).is_some() {
            return Ok((text, sniffed));
        }
    }
    let read = read_as(reading, content_type, body)?;
    // The readers refused a body that is not UTF-8.
    let text = text.unwrap_or_default();
    *fields = Fields::from_read(read, text)?;
    Ok((text, sniffed))
}

/// Signs `fields` with the v2 rule (salt + sorted sign string) and returns
/// the JSON body, `sign` last. Used by ET's side for notifications and by
/// the merchant for the refund acknowledgement.
pub fn sign_notification(salt: &str, fields: UntypedObject) -> Vec<u8> {
    sign_notification_by(salt, NotifySignRule::V2, fields)
}

/// Signs `fields` as ET signs for a merchant whose profile has `rule`, and
/// returns the JSON body, `sign` last: under [`NotifySignRule::V2`] the v2
/// rule ([`sign_notification`]); under [`NotifySignRule::V1Compat`], the
/// profile of a merchant still on legacy v1 notifications, the salt and the
/// v1 page's printed form ([`v1_printed_string`](crate::v1_printed_string):
/// received order, an empty value as the bare key; spec 04 §3.2), which
/// only a `V1Compat` verifier accepts.
pub fn sign_notification_by(salt: &str, rule: NotifySignRule, fields: UntypedObject) -> Vec<u8> {
    signed(salt, fields, rule).to_json().into_bytes()
}

/// `fields` with a `sign` (replacing any, last) by `rule`: the v2 sign
/// string, or for [`NotifySignRule::V1Compat`] the v1 printed form.
pub(crate) fn signed(salt: &str, mut fields: UntypedObject, rule: NotifySignRule) -> UntypedObject {
    fields.remove(SIGN_KEY);
    let text = match rule {
        NotifySignRule::V2 => sign_string(&fields),
        NotifySignRule::V1Compat => v1_printed_string(&fields),
    };
    let sign = et_crypto::md5_hex(salt, text);
    fields.insert(SIGN_KEY, UntypedValue::string(sign));
    fields
}

/// The merchant's reply to a refund result for `order_id` (spec 04 §4.4):
/// `order_id`, `notify_result` `OK` and their MD5 `sign` by the v2 rule.
/// What [`VerifiedNotification::acknowledgement`] answers for a refund.
pub fn refund_acknowledgement(salt: &str, order_id: &str) -> Vec<u8> {
    let reply: UntypedObject = [
        ("order_id", UntypedValue::string(order_id)),
        ("notify_result", UntypedValue::string("OK")),
    ]
    .into_iter()
    .collect();
    sign_notification(salt, reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The inline copy of a piece is `copy_from_slice` at every length,
        /// on either side of each of its size classes.
        #[test]
        fn a_short_copy_copies_every_byte(src in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48)) {
            let mut dst = vec![0xa5; src.len()];
            copy_short(&mut dst, &src);
            proptest::prop_assert_eq!(dst, src);
        }

        /// Gathered a block at a time, any pieces hash as their joined text.
        #[test]
        fn gathered_pieces_hash_as_the_joined_text(
            pieces in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), 0..12),
        ) {
            let joined: Vec<u8> = pieces.concat();
            let expected = et_crypto::md5_hex("salt", &joined);
            let matched = salted_md5_is("salt", || Some(expected.as_str()), |md5| {
                pieces.iter().for_each(|piece| md5.write(piece));
            });
            proptest::prop_assert!(matched);
        }
    }
}
