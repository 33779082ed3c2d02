//! The merchant side: build requests, open responses.

use std::fmt;
use std::time::SystemTime;

use et_crypto::{PublicKey, SharedKey};
use et_model::{CallbackProcess, Operation, Placement, RawJson, ReplyCode, ServerType};
use zeroize::Zeroizing;

use crate::envelope::{self, payload_text};
use crate::error::{Error, Message};
use crate::notification::NotificationVerifier;
use crate::profile::{CallbackEncoding, Profile};
use crate::raw::{UntypedObject, UntypedValue};
use crate::rollover::{self, Accepted, VerifiedBy};
use crate::serial::SerialNumbers;
use crate::shape::{self, RESPONSE_KEYS};
use crate::sign::SIGN_KEY;

/// ET's test environment (joint debugging).
pub const TEST_ENDPOINT: &str = "https://testapi.easytransfer.cn/server";
/// ET's production environment.
pub const PRODUCTION_ENDPOINT: &str = "https://api.easytransfer.cn/server";
/// The `Content-Type` to send requests with (spec 01 Q11).
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// What ET gives a merchant: account numbers, keys and the notification salt.
pub struct Credentials {
    /// `merchant_number`, e.g. `ET82009`.
    pub merchant_number: String,
    /// `sub_merchant_number`, e.g. `ET82009S001`.
    pub sub_merchant_number: String,
    /// Signs requests and decrypts response `aeskey`s: a key in this
    /// process or on a token, replaceable while in use (the merchant's
    /// rollover: [`SharedKey::replace`]).
    pub merchant_key: SharedKey,
    /// Encrypts request `aeskey`s and verifies responses (first, as
    /// [`CURRENT`](crate::CURRENT)).
    pub et_public_key: PublicKey,
    /// Salt of the notification MD5 (tried first, as [`CURRENT`](crate::CURRENT)).
    pub notify_salt: Zeroizing<String>,
    /// ET public keys also accepted for responses during a rollover, in
    /// the order tried after `et_public_key`.
    pub accepted_et_keys: Vec<Accepted<PublicKey>>,
    /// Salts also accepted for notifications during a rollover, in the
    /// order tried after `notify_salt`.
    pub accepted_salts: Vec<Accepted<Zeroizing<String>>>,
}

impl Credentials {
    /// Bundles the values ET issued. `merchant_key` is a
    /// [`PrivateKey`](et_crypto::PrivateKey), any other
    /// [`MerchantKey`](et_crypto::MerchantKey) (a PKCS#11 token's), or a
    /// [`SharedKey`] to share with other holders.
    pub fn new(
        merchant_number: impl Into<String>,
        sub_merchant_number: impl Into<String>,
        merchant_key: impl Into<SharedKey>,
        et_public_key: PublicKey,
        notify_salt: impl Into<String>,
    ) -> Self {
        Credentials {
            merchant_number: merchant_number.into(),
            sub_merchant_number: sub_merchant_number.into(),
            merchant_key: merchant_key.into(),
            et_public_key,
            notify_salt: Zeroizing::new(notify_salt.into()),
            accepted_et_keys: Vec::new(),
            accepted_salts: Vec::new(),
        }
    }

    /// Also accepts `key` for ET's responses (ET's key rollover).
    #[must_use]
    pub fn accepting_et_key(mut self, key: Accepted<PublicKey>) -> Self {
        self.accepted_et_keys.push(key);
        self
    }

    /// Also accepts `salt` for notifications (the salt's rollover).
    #[must_use]
    pub fn accepting_salt(mut self, salt: Accepted<String>) -> Self {
        self.accepted_salts.push(Accepted {
            name: salt.name,
            value: Zeroizing::new(salt.value),
            not_after: salt.not_after,
        });
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_number", &self.merchant_number)
            .field("sub_merchant_number", &self.sub_merchant_number)
            .field("merchant_key", &self.merchant_key)
            .field("et_public_key", &"<public key>")
            .field("notify_salt", &"<redacted>")
            .field("accepted_et_keys", &self.accepted_et_keys)
            .field("accepted_salts", &self.accepted_salts)
            .finish()
    }
}

/// Per-request envelope values besides the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// `return_info`: ET echoes it in the response. Empty: a fresh random
    /// value per request (see [`Profile::random_return_info`]).
    pub return_info: String,
    /// `extend_info`: reserved by ET.
    pub extend_info: String,
    /// `callback_process`: "special treatment", arranged with ET. Default no.
    pub callback_process: CallbackProcess,
}

/// A finished request: the bytes to POST and what the response is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltRequest {
    /// The JSON body.
    pub body: Vec<u8>,
    /// Its serial number (for logs and idempotency).
    pub serial_number: String,
    /// The `server_type` sent.
    pub server_type: ServerType,
    /// The `return_info` sent (the reply must echo it, see
    /// [`Profile::check_return_info`]).
    pub return_info: String,
}

/// An opened success response.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// Always [`ReplyCode::Success`] (errors are [`Error::Api`]).
    pub status_code: ReplyCode,
    /// ET's `message`.
    pub message: String,
    /// ET's `count` (documented as the length of the `data` list), if numeric.
    pub count: Option<u64>,
    /// The result items, from the list the operation names (or the other
    /// one when that is empty).
    pub items: Vec<T>,
    /// `return_info` as echoed.
    pub return_info: String,
    /// `extend_info`.
    pub extend_info: String,
    /// `version`, which ET's real responses carry.
    pub version: Option<String>,
    /// The keys named in [`Profile::extra_response_keys`], raw.
    pub extra: UntypedObject,
    /// The ET public key whose signature verified the reply
    /// ([`CURRENT`](crate::CURRENT) or an accepted key's name).
    pub verified_by: VerifiedBy,
}

/// An opened success response without a type, for tools that print it: both
/// payloads as their exact JSON text, so `82800.00` stays `82800.00` (a
/// `serde_json::Value` would hold the float `82800.0`).
#[derive(Debug, Clone, PartialEq)]
pub struct UntypedReply {
    /// The envelope fields; `items` holds the `data` list, item by item.
    pub reply: Reply<RawJson>,
    /// The decrypted `sensitive_data` (`None` when empty).
    pub sensitive: Option<RawJson>,
}

/// The merchant: credentials, profile and serial numbers.
#[derive(Debug)]
pub struct Merchant {
    credentials: Credentials,
    profile: Profile,
    serials: SerialNumbers,
}

impl Merchant {
    /// A merchant whose serial numbers use every suffix (a single instance,
    /// [`SerialNumbers::new`]).
    pub fn new(credentials: Credentials, profile: Profile) -> Self {
        let serials = SerialNumbers::new(credentials.merchant_number.clone());
        Merchant {
            credentials,
            profile,
            serials,
        }
    }

    /// Replaces the serial-number source (e.g. one [`Instance`](crate::Instance)
    /// of several, or a fixed random generator in tests).
    pub fn with_serial_numbers(mut self, serials: SerialNumbers) -> Self {
        self.serials = serials;
        self
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A verifier for this merchant's notifications.
    pub fn notification_verifier(&self) -> NotificationVerifier {
        let salts = self.credentials.accepted_salts.iter().cloned();
        NotificationVerifier::new(
            self.credentials.notify_salt.as_str(),
            self.profile.notify_sign_rule,
        )
        .with_accepted_salts(salts)
        .with_extra_fields(self.profile.extra_notification_fields.iter().cloned())
        .with_exact_fields(self.profile.exact_keys)
    }

    /// Builds the request for `op` with default options, numbered for `now`
    /// (the caller's clock: this crate reads none).
    pub fn build<Op: Operation>(&self, op: &Op, now: SystemTime) -> Result<BuiltRequest, Error> {
        self.build_with(op, &RequestOptions::default(), now)
    }

    /// Validates `op`, then builds its signed, encrypted envelope: each
    /// payload as et-model writes it, but for a key the profile spells
    /// otherwise (the order interface's amount,
    /// [`Profile::tuition_spelling`]). Its serial number is for the second
    /// of `now`; when that second's are used up, the answer is
    /// [`Error::SerialsExhausted`], which says when to build again.
    pub fn build_with<Op: Operation>(
        &self,
        op: &Op,
        options: &RequestOptions,
        now: SystemTime,
    ) -> Result<BuiltRequest, Error> {
        op.validate()?;
        let (data_json, sensitive_json) = self.payloads(op)?;
        let server_type = self.profile.server_type_for(&Op::SERVER_TYPE);
        // serde_json wrote both texts: unlike `build_untyped`'s, they need no check.
        let texts = PayloadTexts {
            data: &data_json,
            sensitive: &sensitive_json,
        };
        self.build_envelope(server_type, texts, options, now)
    }

    /// The JSON text of `op`'s `data` and `sensitive_data` payloads, as
    /// [`Merchant::build_with`] sends them (each field in the part its
    /// operation puts it in, keys spelled as the profile says), without
    /// validating `op`. For a tool that reads one payload of an
    /// operation's fields and sends it untyped (`et call`).
    pub fn payloads<Op: Operation>(&self, op: &Op) -> Result<(String, Zeroizing<String>), Error> {
        let (data, sensitive) = op.parts();
        let data_json = envelope::to_json(data, Placement::Data)?;
        let mut sensitive_json =
            Zeroizing::new(envelope::to_json(sensitive, Placement::Sensitive)?);
        if let Some(spelling) = self.profile.respelled_key(&Op::SERVER_TYPE) {
            let respelled = envelope::respell(&sensitive_json, spelling, Placement::Sensitive)?;
            sensitive_json = Zeroizing::new(respelled);
        }
        Ok((data_json, sensitive_json))
    }

    /// Builds the envelope for any `server_type` from the JSON text of its
    /// `data` and `sensitive_data` payloads, sent exactly as given (numbers
    /// keep their text; surrounding whitespace of `data` is dropped). For
    /// operations et-model does not type, and for
    /// tools such as `et request build`; typed code should use
    /// [`Merchant::build_with`], which also validates the payload
    /// ([`validate_untyped`](crate::validate_untyped) checks these the same way).
    pub fn build_untyped(
        &self,
        server_type: ServerType,
        data_json: &str,
        sensitive_json: &str,
        options: &RequestOptions,
        now: SystemTime,
    ) -> Result<BuiltRequest, Error> {
        let texts = PayloadTexts::checked(data_json, sensitive_json)?;
        self.build_envelope(server_type, texts, options, now)
    }

    /// Seals, numbers and signs the envelope around the payloads' texts.
    fn build_envelope(
        &self,
        server_type: ServerType,
        texts: PayloadTexts<'_>,
        options: &RequestOptions,
        now: SystemTime,
    ) -> Result<BuiltRequest, Error> {
        // Numbered first: an exhausted second costs no encryption.
        let serial_number = self
            .serials
            .next_serial(now)
            .map_err(Error::SerialsExhausted)?;
        let sealed = envelope::seal(
            texts.sensitive,
            &self.credentials.et_public_key,
            &self.profile,
        )?;
        let return_info = if options.return_info.is_empty() && self.profile.random_return_info {
            random_token()
        } else {
            options.return_info.clone()
        };
        let mut body: UntypedObject = [
            ("serial_number", UntypedValue::string(&serial_number)),
            (
                "merchant_number",
                UntypedValue::string(&self.credentials.merchant_number),
            ),
            (
                "sub_merchant_number",
                UntypedValue::string(&self.credentials.sub_merchant_number),
            ),
            ("server_type", UntypedValue::string(server_type.as_str())),
            ("version", UntypedValue::string(&self.profile.version)),
            (
                "callback_process",
                callback_value(self.profile.callback_process, options.callback_process),
            ),
            ("data", UntypedValue::string(texts.data.trim())),
            (
                "sensitive_data",
                UntypedValue::string(sealed.sensitive_data),
            ),
            ("sign", UntypedValue::string("")),
            ("aeskey", UntypedValue::string(sealed.aeskey)),
            ("extend_info", UntypedValue::string(&options.extend_info)),
            ("return_info", UntypedValue::string(&return_info)),
        ]
        .into_iter()
        .collect();
        shape::check_request(&body)?;
        let merchant_key = self.credentials.merchant_key.current();
        envelope::sign_envelope(&mut body, &*merchant_key, &self.profile)?;
        Ok(BuiltRequest {
            body: body.to_json().into_bytes(),
            serial_number,
            server_type,
            return_info,
        })
    }

    /// Opens the response to `request`: verifies ET's signature over every
    /// key received, checks the signed shape (exactly ET's keys, values that
    /// cannot be re-split: [`Error::Shape`]), maps a non-success
    /// `status_code` to [`Error::Api`], checks the `return_info` echo (per
    /// profile), decrypts and reads the items of `Op::OUTPUT_IN` (or of the
    /// other list when that one is empty). An accepted ET key verifies only
    /// while in force at `now` (the caller's clock: this crate reads none).
    pub fn open<Op: Operation>(
        &self,
        request: &BuiltRequest,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Reply<Op::Output>, Error> {
        let (envelope, sensitive, verified_by) = self.open_envelope(Some(request), body, now)?;
        let items = read_output::<Op>(&envelope, &sensitive)?;
        Ok(reply(&envelope, items, verified_by))
    }

    /// Opens a response without a type, as [`open`](Self::open) does.
    /// `request`, when given, enables the `return_info` check.
    pub fn open_untyped(
        &self,
        request: Option<&BuiltRequest>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<UntypedReply, Error> {
        let (envelope, sensitive, verified_by) = self.open_envelope(request, body, now)?;
        let items = envelope::parse_items(payload_text(envelope.get("data")), Placement::Data)?;
        Ok(UntypedReply {
            reply: reply(&envelope, items, verified_by),
            sensitive: raw_json(&sensitive)?,
        })
    }

    /// Opens a response in three steps: verify ET's signature and judge
    /// the reply ([`accept_response`]), unwrap the AES key from `aeskey`
    /// with our private key, decrypt `sensitive_data` with it. The fuzzing
    /// entry points run the same steps with the key handed in.
    fn open_envelope(
        &self,
        request: Option<&BuiltRequest>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(UntypedObject, Zeroizing<String>, VerifiedBy), Error> {
        let envelope = UntypedObject::parse_json(body, Message::Response)?;
        let credentials = &self.credentials;
        let et_keys = rollover::in_turn(
            &credentials.et_public_key,
            &credentials.accepted_et_keys,
            now,
        );
        let verified =
            envelope::verify_envelope(&envelope, et_keys, &self.profile, Message::Response);
        let verified_by = accept_response(&envelope, verified, request, &self.profile)?;
        let merchant_key = credentials.merchant_key.current();
        let keys = envelope::unwrap_keys(&envelope, &*merchant_key, &self.profile)?;
        let sensitive = envelope::open_sealed(&envelope, &keys)?;
        Ok((envelope, sensitive, verified_by))
    }
}

/// Judges a response whose signature check gave `verified`: a signed text
/// is believed only in ET's shape, a non-success `status_code` is
/// [`Error::Api`] (authenticated only when signed and echoing `request`),
/// and a success must be signed and echo `request`'s `return_info`;
/// then the key that verified it.
pub(crate) fn accept_response(
    envelope: &UntypedObject,
    verified: Result<VerifiedBy, Error>,
    request: Option<&BuiltRequest>,
    profile: &Profile,
) -> Result<VerifiedBy, Error> {
    let code = ReplyCode::from_code(envelope.require("status_code")?);
    // A signed text is believed only in ET's shape: read otherwise, it
    // could be another object than the one ET signed (SECURITY.md).
    let authenticated = match verified {
        Ok(_) => {
            shape::check_response(envelope, profile)?;
            true
        }
        Err(_) => false,
    };
    // Only a reply that echoes this request's `return_info` answers it:
    // a signed refusal of another request (replayed, or one copy of a
    // duplicated request) must not be acted on as this one's.
    let echoed = request
        .filter(|_| profile.check_return_info)
        .is_none_or(|request| {
            envelope.text("return_info").unwrap_or_default() == request.return_info
        });
    if !code.is_success() {
        return Err(Error::Api {
            code,
            message: envelope.text("message").unwrap_or_default().to_owned(),
            authenticated: authenticated && echoed,
        });
    }
    let verified_by = verified?;
    if !echoed {
        return Err(Error::ReturnInfoMismatch);
    }
    Ok(verified_by)
}

/// The items of `Op`'s reply from an opened envelope and its decrypted
/// `sensitive_data`.
pub(crate) fn read_output<Op: Operation>(
    envelope: &UntypedObject,
    sensitive: &str,
) -> Result<Vec<Op::Output>, Error> {
    envelope::parse_output(Op::OUTPUT_IN, payload_text(envelope.get("data")), sensitive)
}

/// The JSON texts of a request's `data` and `sensitive_data`, each known
/// to be one JSON value: checked when a caller gave them, or written by
/// serde_json.
struct PayloadTexts<'a> {
    data: &'a str,
    sensitive: &'a str,
}

impl<'a> PayloadTexts<'a> {
    /// Texts a caller gave, refused unless each is one JSON value.
    fn checked(data: &'a str, sensitive: &'a str) -> Result<Self, Error> {
        envelope::check_json(data, Placement::Data)?;
        envelope::check_json(sensitive, Placement::Sensitive)?;
        Ok(PayloadTexts { data, sensitive })
    }
}

fn callback_value(encoding: CallbackEncoding, value: CallbackProcess) -> UntypedValue {
    match encoding {
        CallbackEncoding::Integer => UntypedValue::integer(value.code()),
        CallbackEncoding::String => UntypedValue::string(value.code().to_string()),
        CallbackEncoding::Empty => UntypedValue::string(""),
    }
}

/// A value no other has: 22 letters and digits (131 bits). A fresh
/// `return_info`; ET's side's value of an added response key.
pub(crate) fn random_token() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 22)
}

fn reply<T>(envelope: &UntypedObject, items: Vec<T>, verified_by: VerifiedBy) -> Reply<T> {
    let text = |key| envelope.text(key).unwrap_or_default().to_owned();
    let extra = envelope
        .iter()
        .filter(|(key, _)| *key != SIGN_KEY && !RESPONSE_KEYS.contains(key))
        .map(|(key, value)| (key, value.clone()))
        .collect();
    Reply {
        status_code: ReplyCode::Success,
        message: text("message"),
        count: envelope.get("count").and_then(|c| c.text().parse().ok()),
        items,
        return_info: text("return_info"),
        extend_info: text("extend_info"),
        version: envelope.text("version").map(str::to_owned),
        extra,
        verified_by,
    }
}

/// A decrypted payload as its JSON text; empty text is `None`.
fn raw_json(text: &str) -> Result<Option<RawJson>, Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    RawJson::new(text.trim())
        .map(Some)
        .map_err(|e| envelope::not_json(&e, Placement::Sensitive))
}
