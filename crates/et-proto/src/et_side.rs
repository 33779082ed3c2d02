//! ET's side of the protocol, for the local sandbox and for tests: open
//! requests, build responses, sign notifications.

use std::fmt;
use std::time::SystemTime;

use et_crypto::{AesKey, PrivateKey, PublicKey};
use et_model::{Notification, Operation, Placement, ReplyCode, ServerType};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::envelope::{self, payload_text};
use crate::error::{Error, Message};
use crate::merchant::random_token;
use crate::notification;
use crate::profile::{NotifyEncoding, Profile};
use crate::raw::{UntypedObject, UntypedValue};
use crate::rollover::{self, Accepted};
use crate::shape;

/// ET: its private key (whose `Debug` is redacted) and the profile it
/// speaks; during a key rollover, its older keys still unwrap requests
/// sealed to them ([`EtSide::accepting_key`]).
#[derive(Debug)]
pub struct EtSide {
    key: PrivateKey,
    accepted: Vec<Accepted<PrivateKey>>,
    profile: Profile,
}

/// A request whose signature verified, decrypted.
#[derive(Clone)]
pub struct OpenedRequest {
    /// `serial_number`.
    pub serial_number: String,
    /// `merchant_number`.
    pub merchant_number: String,
    /// `sub_merchant_number`.
    pub sub_merchant_number: String,
    /// `server_type` as sent.
    pub server_type: String,
    /// `version` (empty if absent).
    pub version: String,
    /// `callback_process` as sent (`0`, `"0"`, `""`, …); `None` if absent.
    pub callback_process: Option<UntypedValue>,
    /// The `data` payload's JSON text.
    pub data: String,
    /// The decrypted `sensitive_data` JSON text (zeroized on drop, not in `Debug`).
    pub sensitive: Zeroizing<String>,
    /// `return_info`, to echo.
    pub return_info: String,
    /// `extend_info`.
    pub extend_info: String,
    /// Every field as received.
    pub fields: UntypedObject,
    profile: Profile,
}

impl fmt::Debug for OpenedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedRequest")
            .field("serial_number", &self.serial_number)
            .field("merchant_number", &self.merchant_number)
            .field("sub_merchant_number", &self.sub_merchant_number)
            .field("server_type", &self.server_type)
            .field("data", &self.data)
            .field("sensitive", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl OpenedRequest {
    /// The request as operation `Op`, after checking that `server_type`
    /// selects it (see [`Profile::accepts_server_type`]).
    pub fn operation<Op: Operation>(&self) -> Result<Op, Error> {
        if !self
            .profile
            .accepts_server_type(&Op::SERVER_TYPE, &self.server_type)
        {
            return Err(Error::ServerTypeMismatch {
                expected: self.profile.server_type_for(&Op::SERVER_TYPE),
                found: self.server_type.clone(),
            });
        }
        crate::untyped::read_operation(&self.data, &self.sensitive)
    }

    /// The `server_type` as a code ([`server_type`](Self::server_type) is its text as sent).
    pub fn server_type_code(&self) -> ServerType {
        ServerType::from_code(&self.server_type)
    }

    /// `data` as a JSON value (`null` when empty).
    pub fn data_json(&self) -> Result<serde_json::Value, Error> {
        envelope::parse_payload::<Option<serde_json::Value>>(&self.data, Placement::Data)
            .map(Option::unwrap_or_default)
    }
}

/// What ET answers: status, message, the two lists and the echo.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// `status_code`.
    pub status_code: ReplyCode,
    /// `message`.
    pub message: String,
    /// JSON text of the `data` list.
    pub data: String,
    /// Number of items in `data` (sent as `count`).
    pub count: usize,
    /// JSON text of the sensitive list (encrypted on the way out).
    pub sensitive: Zeroizing<String>,
    /// `return_info` (echo of the request's).
    pub return_info: String,
    /// `extend_info`.
    pub extend_info: String,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status_code", &self.status_code)
            .field("message", &self.message)
            .field("data", &self.data)
            .field("sensitive", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Response {
    /// A success (`000000`, `SUCCESS`, as in ET's example) echoing `request`,
    /// with empty lists.
    pub fn success(request: &OpenedRequest) -> Self {
        Self::new(ReplyCode::Success, "SUCCESS", request.return_info.as_str())
    }

    /// A response with this status and empty lists: an error, or the base
    /// of [`success`](Self::success).
    pub fn new(
        status_code: ReplyCode,
        message: impl Into<String>,
        return_info: impl Into<String>,
    ) -> Self {
        Response {
            status_code,
            message: message.into(),
            data: "[]".to_owned(),
            count: 0,
            sensitive: Zeroizing::new("[]".to_owned()),
            return_info: return_info.into(),
            extend_info: String::new(),
        }
    }

    /// Puts `items` in the `data` list.
    pub fn with_data<T: Serialize>(mut self, items: &[T]) -> Result<Self, Error> {
        self.data = envelope::to_json(items, Placement::Data)?;
        self.count = items.len();
        Ok(self)
    }

    /// Puts `items` in the sensitive list.
    pub fn with_sensitive<T: Serialize>(mut self, items: &[T]) -> Result<Self, Error> {
        self.sensitive = Zeroizing::new(envelope::to_json(items, Placement::Sensitive)?);
        Ok(self)
    }

    /// Puts an operation's results in the list it names ([`Operation::OUTPUT_IN`]).
    pub fn with_output<Op: Operation>(self, items: &[Op::Output]) -> Result<Self, Error> {
        match Op::OUTPUT_IN {
            Placement::Data => self.with_data(items),
            Placement::Sensitive => self.with_sensitive(items),
        }
    }
}

impl EtSide {
    /// ET with its private key.
    pub fn new(key: PrivateKey, profile: Profile) -> Self {
        EtSide {
            key,
            accepted: Vec::new(),
            profile,
        }
    }

    /// Also opens requests whose `aeskey` was sealed to `key`, an older
    /// key of ET's (its rollover: merchants still holding the old public
    /// key are served until `not_after`). Responses are signed with the
    /// current key only.
    #[must_use]
    pub fn accepting_key(mut self, key: Accepted<PrivateKey>) -> Self {
        self.accepted.push(key);
        self
    }

    /// The older keys still accepted (see [`accepting_key`](Self::accepting_key)).
    pub fn accepted_keys(&self) -> &[Accepted<PrivateKey>] {
        &self.accepted
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// ET's public key (what merchants hold).
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// Verifies and decrypts a request. `lookup` maps
    /// (`merchant_number`, `sub_merchant_number`) to the merchant's public key.
    /// Whatever step of decryption fails, the error is the one
    /// [`Error::Decryption`] with one message: answer it as it is, and log its
    /// `step` at debug level only (a refusal naming the step would be a
    /// decryption oracle for anyone with a registered key).
    /// Accepts the demo's shape too: `callback_process` `""`, `[]` encrypted,
    /// and `data`/`sensitive_data` drawn as plain objects. An older key
    /// ([`accepting_key`](Self::accepting_key)) opens requests only while
    /// in force at `now` (the caller's clock: this crate reads none).
    pub fn open_request(
        &self,
        body: &[u8],
        lookup: impl FnOnce(&str, &str) -> Option<PublicKey>,
        now: SystemTime,
    ) -> Result<OpenedRequest, Error> {
        let fields = UntypedObject::parse_json(body, Message::Request)?;
        let merchant_number = fields.require("merchant_number")?;
        let sub_merchant_number = fields.require("sub_merchant_number")?;
        let merchant_key =
            lookup(merchant_number, sub_merchant_number).ok_or_else(|| Error::UnknownMerchant {
                merchant_number: merchant_number.to_owned(),
                sub_merchant_number: sub_merchant_number.to_owned(),
            })?;
        let keys = [(&merchant_key, rollover::CURRENT)];
        envelope::verify_envelope(&fields, keys, &self.profile, Message::Request)?;
        shape::check_request(&fields)?;
        let own = rollover::in_turn(&self.key, &self.accepted, now);
        let mut keys = Vec::new();
        for (key, _) in own {
            keys.extend(envelope::unwrap_keys(&fields, key, &self.profile)?);
        }
        opened_request(fields, &keys, self.profile.clone())
    }

    /// The signed, encrypted response body for the merchant holding
    /// `merchant_key`. Keys in the documented order, then `version`, as
    /// ET's real response carries it (unless [`Profile::response_version`]
    /// is off), then each of [`Profile::extra_response_keys`] with a fresh
    /// random value; `count` is the length of the `data` list, as in ET's
    /// example (items only in `sensitive_data`, `count` 0).
    pub fn respond(&self, merchant_key: &PublicKey, response: &Response) -> Result<Vec<u8>, Error> {
        let sealed = envelope::seal(&response.sensitive, merchant_key, &self.profile)?;
        let count = i64::try_from(response.count).unwrap_or(i64::MAX);
        let mut body: UntypedObject = [
            (
                "status_code",
                UntypedValue::string(response.status_code.as_str()),
            ),
            ("message", UntypedValue::string(&response.message)),
            ("count", UntypedValue::integer(count)),
            ("data", UntypedValue::string(&response.data)),
            (
                "sensitive_data",
                UntypedValue::string(sealed.sensitive_data),
            ),
            ("return_info", UntypedValue::string(&response.return_info)),
            ("extend_info", UntypedValue::string(&response.extend_info)),
            ("sign", UntypedValue::string("")),
            ("aeskey", UntypedValue::string(sealed.aeskey)),
        ]
        .into_iter()
        .collect();
        if self.profile.response_version {
            body.insert("version", UntypedValue::string(&self.profile.version));
        }
        for key in &self.profile.extra_response_keys {
            body.insert(key.as_str(), UntypedValue::string(random_token()));
        }
        envelope::sign_envelope(&mut body, &self.key, &self.profile)?;
        Ok(body.to_json().into_bytes())
    }

    /// A notification body signed with `salt` (v2 rule); `fields` keep their
    /// JSON types (an amount as the number `10000.00`).
    pub fn sign_notification(salt: &str, fields: UntypedObject) -> Vec<u8> {
        notification::sign_notification(salt, fields)
    }

    /// The body ET posts for a typed notification, signed with `salt` (v2
    /// rule): the fields in the struct's order, amounts and result codes as
    /// JSON numbers, and a status change's `order_status` as a string, as
    /// doc-5683216 declares it. An unknown kind's fields are all strings.
    pub fn signed_notification(notification: &Notification, salt: &str) -> Result<Vec<u8>, Error> {
        let fields = notification_fields(notification)?;
        Ok(notification::sign_notification(salt, fields))
    }

    /// The body this ET posts for a typed notification, as its profile
    /// says: the fields of [`signed_notification`](Self::signed_notification),
    /// signed with `salt` by [`Profile::notify_sign_rule`] (the v1 printed
    /// form for [`NotifySignRule::V1Compat`](crate::NotifySignRule::V1Compat))
    /// and encoded as [`Profile::notify_encoding`] says (post it with that
    /// encoding's [`content_type`](crate::NotifyEncoding::content_type)).
    pub fn notification_body(
        &self,
        notification: &Notification,
        salt: &str,
    ) -> Result<Vec<u8>, Error> {
        let fields = notification_fields(notification)?;
        let signed = notification::signed(salt, fields, self.profile.notify_sign_rule);
        let body = match self.profile.notify_encoding {
            NotifyEncoding::Json => signed.to_json(),
            NotifyEncoding::Form => signed.to_form(),
        };
        Ok(body.into_bytes())
    }
}

/// A verified request in ET's shape, its `sensitive_data` decrypted with
/// the first of `keys` that opens it (the last steps of
/// [`EtSide::open_request`], shared with the fuzzing entry points).
pub(crate) fn opened_request(
    fields: UntypedObject,
    keys: &[AesKey],
    profile: Profile,
) -> Result<OpenedRequest, Error> {
    let merchant_number = fields.require("merchant_number")?.to_owned();
    let sub_merchant_number = fields.require("sub_merchant_number")?.to_owned();
    let sensitive = envelope::open_sealed(&fields, keys)?;
    let text = |key| fields.text(key).unwrap_or_default().to_owned();
    Ok(OpenedRequest {
        serial_number: fields.require("serial_number")?.to_owned(),
        server_type: fields.require("server_type")?.to_owned(),
        version: text("version"),
        callback_process: fields.get("callback_process").cloned(),
        data: payload_text(fields.get("data")).to_owned(),
        sensitive,
        return_info: text("return_info"),
        extend_info: text("extend_info"),
        merchant_number,
        sub_merchant_number,
        profile,
        fields,
    })
}

/// A typed notification's fields as ET writes them (see
/// [`EtSide::signed_notification`]), unsigned.
fn notification_fields(notification: &Notification) -> Result<UntypedObject, Error> {
    // Serialising these typed values cannot fail; were it to, the error
    // names the plain part, as for `data`.
    const FIELD: Placement = Placement::Data;
    let json = match notification {
        Notification::PaymentSuccess(n) => envelope::to_json(n, FIELD),
        Notification::OrderStatusChange(n) => envelope::to_json(n, FIELD),
        Notification::RefundResult(n) => envelope::to_json(n, FIELD),
        Notification::RemittanceVoucher(n) => envelope::to_json(n, FIELD),
        Notification::Unknown(fields) => envelope::to_json(fields, FIELD),
    }?;
    let mut fields = UntypedObject::parse_json(json.as_bytes(), Message::Notification)?;
    if let Notification::OrderStatusChange(n) = notification {
        let status = UntypedValue::string(n.order_status.code().to_string());
        fields.insert("order_status", status);
    }
    Ok(fields)
}
