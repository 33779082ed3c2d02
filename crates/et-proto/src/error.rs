//! The one error type of this crate, and the small enums it is typed with.

use std::fmt;
use std::sync::Arc;

use et_model::{NotificationError, Placement, ReplyCode, ServerType, ValidationError};

use crate::serial::SerialsExhausted;
use crate::shape::ShapeRule;

/// How many characters of received text an error's message shows: the
/// sender chooses that text, and a log line should not be theirs to fill.
pub(crate) const SHOWN_CHARS: usize = 64;

/// Everything that can go wrong building or opening an envelope or a
/// notification. No variant carries key material, salts or decrypted data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The body (or a JSON-valued field) is not valid JSON.
    MalformedJson {
        /// What was being read.
        context: Input,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in bytes) of the problem.
        column: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A body that must be text is not UTF-8.
    NotUtf8 {
        /// What was being read.
        context: Input,
    },
    /// A key appears twice, which would make the signed text ambiguous.
    DuplicateKey {
        /// What was being read.
        context: Input,
        /// The repeated key.
        key: String,
    },
    /// A required field is absent.
    MissingField(&'static str),
    /// `sign` is absent (or, in an envelope, empty).
    MissingSignature {
        /// The message it is missing from.
        what: Message,
    },
    /// `sign` (an RSA signature) is not Base64.
    SignatureNotBase64 {
        /// The message it signs.
        what: Message,
    },
    /// A signature (RSA or MD5) does not match.
    SignatureMismatch {
        /// Whose signature.
        what: Message,
    },
    /// `aeskey` or `sensitive_data` could not be decrypted. The message is
    /// the same whatever step failed, so that ET's side, which answers with
    /// it, is no decryption oracle; the step is for local (debug) logs only.
    Decryption {
        /// Which step failed.
        step: DecryptionStep,
    },
    /// A cryptographic operation on our side failed (bad key, message too long).
    Crypto {
        /// Which step.
        step: CryptoStep,
        /// The crypto layer's error.
        source: et_crypto::Error,
    },
    /// ET answered with a non-success `status_code`.
    Api {
        /// The status code.
        code: ReplyCode,
        /// ET's message.
        message: String,
        /// Whether this is ET's answer to this request: its signature
        /// verified, it is in ET's signed shape, and (when
        /// [`Profile::check_return_info`](crate::Profile::check_return_info)
        /// and a request were given) it echoes the request's `return_info`.
        /// Act on a refusal's code only when this holds.
        authenticated: bool,
    },
    /// A payload field breaks one of its type's rules (checked before
    /// anything is sent).
    Validation(ValidationError),
    /// A payload part (ours before sending, or one received) cannot be read
    /// or written as its type.
    InvalidPayload {
        /// The part: `data` or `sensitive_data`.
        part: Placement,
        /// What was wrong.
        fault: PayloadFault,
    },
    /// A verified notification's fields do not fit its kind.
    Notification(NotificationError),
    /// A response or notification whose signature verified is not in the
    /// signed shape ET writes (see [`ShapeRule`]): its signed text could be
    /// read as another object, so it is not believed.
    Shape {
        /// The message refused.
        context: Message,
        /// The key at fault, as received.
        key: String,
        /// The rule broken.
        rule: ShapeRule,
    },
    /// The response does not echo the `return_info` sent.
    ReturnInfoMismatch,
    /// The request names a `server_type` other than the operation asked for.
    ServerTypeMismatch {
        /// The server type the operation is sent as under the profile.
        expected: ServerType,
        /// What the request says, exactly as received (the message shows a
        /// bounded prefix of it).
        found: String,
    },
    /// The ET side has no key for this merchant.
    UnknownMerchant {
        /// `merchant_number` of the request.
        merchant_number: String,
        /// `sub_merchant_number` of the request.
        sub_merchant_number: String,
    },
    /// A notification body is neither JSON, form-urlencoded nor
    /// `multipart/form-data`.
    UnsupportedContentType(String),
    /// A notification body whose content type did not say JSON or form
    /// (or that had none) and that does not start with `{` was read as
    /// `read_as` (a form) and holds no `sign`: it is likely neither JSON
    /// nor a form.
    UnsignedSniffedBody {
        /// What the body was read as.
        read_as: Input,
    },
    /// A `multipart/form-data` body could not be read.
    MalformedMultipart {
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A notification body (or object) of 4 GiB or more: larger than any
    /// notification, and than the verifier's field offsets reach.
    NotificationTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// No serial number is left for the current second: build again once
    /// the clock reads the time it names (nothing was built or sent).
    SerialsExhausted(SerialsExhausted),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MalformedJson {
                context,
                line,
                column,
                reason,
            } => write!(
                f,
                "malformed JSON in {context} at line {line}, column {column}: {reason}"
            ),
            Error::NotUtf8 { context } => write!(f, "{context} is not UTF-8"),
            Error::DuplicateKey { context, key } => write!(f, "duplicate key `{key}` in {context}"),
            Error::MissingField(name) => write!(f, "missing field `{name}`"),
            Error::MissingSignature { .. } => f.write_str("missing field `sign`"),
            Error::SignatureNotBase64 { .. } => f.write_str("field `sign` is not valid Base64"),
            Error::SignatureMismatch { what } => write!(f, "{what} signature does not verify"),
            Error::Decryption { .. } => f.write_str("sensitive_data could not be decrypted"),
            Error::Crypto { step, source } => write!(f, "crypto failure at {step}: {source}"),
            Error::Api {
                code,
                message,
                authenticated,
            } => {
                let tag = if *authenticated {
                    ""
                } else {
                    " (unauthenticated)"
                };
                write!(f, "ET error {}{tag}: {message}", code.as_str())
            }
            Error::Validation(e) => write!(f, "invalid `{}`: {}", e.field, e.rule),
            Error::InvalidPayload { part, fault } => {
                write!(f, "invalid `{}`: {fault}", part_name(*part))
            }
            Error::Notification(e) => write!(f, "invalid `notification`: {e}"),
            Error::Shape { context, key, rule } => {
                write!(f, "{context} refused: key {key:?} {rule}")
            }
            Error::ReturnInfoMismatch => {
                f.write_str("response does not echo the request's return_info")
            }
            Error::ServerTypeMismatch { expected, found } => {
                let shown: String = found.chars().take(SHOWN_CHARS).collect();
                let more = if shown.len() < found.len() { "…" } else { "" };
                write!(
                    f,
                    "server_type is {shown:?}{more}, expected `{}`",
                    expected.as_str()
                )
            }
            Error::UnknownMerchant {
                merchant_number,
                sub_merchant_number,
            } => write!(
                f,
                "unknown merchant {merchant_number}/{sub_merchant_number}"
            ),
            Error::UnsupportedContentType(ct) => write!(f, "unsupported content type `{ct}`"),
            Error::UnsignedSniffedBody { read_as } => write!(
                f,
                "notification has no `sign`: with no JSON or form content type and no leading \
                 `{{`, the body was read as a {read_as}; it is likely neither JSON nor a form"
            ),
            Error::MalformedMultipart { reason } => write!(f, "malformed multipart body: {reason}"),
            Error::NotificationTooLarge { len } => {
                write!(f, "notification of {len} bytes: 4 GiB or more")
            }
            Error::SerialsExhausted(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Crypto { source, .. } => Some(source),
            Error::Validation(e) => Some(e),
            Error::Notification(e) => Some(e),
            Error::SerialsExhausted(e) => Some(e),
            Error::InvalidPayload {
                fault: PayloadFault::Json(e),
                ..
            } => Some(e.as_serde()),
            _ => None,
        }
    }
}

/// The message an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Message {
    /// A merchant's request (signed with the merchant's RSA key).
    Request,
    /// ET's response (signed with ET's RSA key).
    Response,
    /// ET's notification (signed with MD5 and the merchant's salt).
    Notification,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Message::Request => "request",
            Message::Response => "response",
            Message::Notification => "notification",
        })
    }
}

/// What was being read when it was found not to be JSON, not to be text, or
/// to repeat a key; or what a notification body was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Input {
    /// A message's JSON body.
    Json(Message),
    /// An `application/x-www-form-urlencoded` body (a notification's).
    Form,
    /// A `multipart/form-data` body (a notification's).
    Multipart,
    /// A single JSON value given as text ([`UntypedValue::from_json`]).
    ///
    /// [`UntypedValue::from_json`]: crate::UntypedValue::from_json
    Value,
}

impl From<Message> for Input {
    fn from(what: Message) -> Self {
        Input::Json(what)
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Json(what) => what.fmt(f),
            Input::Form => f.write_str("form body"),
            Input::Multipart => f.write_str("multipart body"),
            Input::Value => f.write_str("JSON value"),
        }
    }
}

/// Our own cryptographic step that failed (a bad key, a message too long).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoStep {
    /// RSA-encrypting the fresh AES key into `aeskey`.
    Aeskey,
    /// Signing the envelope (`sign`).
    Sign,
}

impl CryptoStep {
    /// The [`Error::Crypto`] of this step, for `map_err`.
    pub(crate) fn failed(self) -> impl FnOnce(et_crypto::Error) -> Error {
        move |source| Error::Crypto { step: self, source }
    }
}

impl fmt::Display for CryptoStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoStep::Aeskey => "aeskey",
            CryptoStep::Sign => "sign",
        })
    }
}

/// The wire name of a payload part.
fn part_name(part: Placement) -> &'static str {
    match part {
        Placement::Data => "data",
        Placement::Sensitive => "sensitive_data",
    }
}

/// What is wrong with a payload part. serde's own message can quote the
/// offending value, so it is kept ([`PayloadFault::Json`]) only for `data`;
/// for `sensitive_data` a fault names a field of our types or a position,
/// never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadFault {
    /// A field our type requires is absent (its name, from our types).
    MissingField(String),
    /// A field appears twice (its name, from our types).
    DuplicateField(String),
    /// The part does not match its type; where, not what.
    Mismatch {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The part does not match its type, in serde's words (`data` only).
    Json(JsonError),
    /// The text is not one JSON value.
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The value cannot be written as JSON.
    Unwritable,
}

impl fmt::Display for PayloadFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadFault::MissingField(name) => write!(f, "missing field `{name}`"),
            PayloadFault::DuplicateField(name) => write!(f, "duplicate field `{name}`"),
            PayloadFault::Mismatch { line, column } => write!(
                f,
                "does not match the expected shape (line {line}, column {column})"
            ),
            PayloadFault::Json(e) => e.fmt(f),
            PayloadFault::NotJson { line, column } => {
                write!(f, "is not JSON (line {line}, column {column})")
            }
            PayloadFault::Unwritable => f.write_str("cannot be written as JSON"),
        }
    }
}

/// serde_json's error, shared so that [`Error`] stays `Clone`; two are
/// equal when their messages are.
#[derive(Debug, Clone)]
pub struct JsonError(Arc<serde_json::Error>);

impl JsonError {
    /// serde_json's error.
    pub fn as_serde(&self) -> &serde_json::Error {
        &self.0
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> Self {
        JsonError(Arc::new(e))
    }
}

impl PartialEq for JsonError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for JsonError {}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The step at which decrypting `aeskey` / `sensitive_data` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptionStep {
    /// `aeskey` is not Base64.
    AeskeyBase64,
    /// `sensitive_data` is not Base64.
    SensitiveDataBase64,
    /// RSA decryption of `aeskey` failed or gave no 16-byte key.
    Aeskey,
    /// AES-CBC decryption (padding) of `sensitive_data` failed.
    SensitiveData,
    /// The decrypted `sensitive_data` is not UTF-8.
    SensitiveDataUtf8,
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use et_model::Rule;

    use super::*;

    #[test]
    fn a_server_type_mismatch_shows_a_bounded_escaped_prefix_of_what_was_sent() {
        let long = format!("X\n{}", "y".repeat(1000));
        let e = Error::ServerTypeMismatch {
            expected: ServerType::GetRate,
            found: long.clone(),
        };
        assert!(matches!(&e, Error::ServerTypeMismatch { found, .. } if *found == long));
        let shown = e.to_string();
        assert_eq!(
            shown,
            format!(
                "server_type is \"X\\n{}\"…, expected `{}`",
                "y".repeat(SHOWN_CHARS - 2),
                ServerType::GetRate.as_str()
            )
        );
        let short = Error::ServerTypeMismatch {
            expected: ServerType::GetRate,
            found: "x".to_owned(),
        };
        assert!(short
            .to_string()
            .starts_with("server_type is \"x\", expected"));
    }

    #[test]
    fn source_reaches_the_typed_cause_one_layer_down() {
        let crypto = Error::Crypto {
            step: CryptoStep::Sign,
            source: et_crypto::Error::KeyParse,
        };
        assert_eq!(
            crypto.source().and_then(|s| s.downcast_ref()),
            Some(&et_crypto::Error::KeyParse)
        );
        let rule = ValidationError {
            field: "order_id".into(),
            rule: Rule::Required,
        };
        let invalid = Error::from(rule.clone());
        assert_eq!(invalid.source().and_then(|s| s.downcast_ref()), Some(&rule));
        assert_eq!(
            invalid.to_string(),
            "invalid `order_id`: is required and must not be empty"
        );
    }
}
