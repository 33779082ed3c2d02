//! The one error type of this crate.

use std::fmt;

use et_model::StatusCode;

use crate::shape::ShapeRule;

/// Everything that can go wrong building or opening an envelope or a
/// notification. No variant carries key material, salts or decrypted data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The body (or a JSON-valued field) is not valid JSON.
    MalformedJson {
        /// What was being read (`"response"`, `"data"`, `"notification"`, …).
        context: &'static str,
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
        context: &'static str,
    },
    /// A key appears twice, which would make the signed text ambiguous.
    DuplicateKey {
        /// What was being read.
        context: &'static str,
        /// The repeated key.
        key: String,
    },
    /// A required field is absent.
    MissingField(&'static str),
    /// A field that must be Base64 is not.
    BadBase64 {
        /// The field.
        field: &'static str,
    },
    /// A signature (RSA or MD5) does not match.
    SignatureMismatch {
        /// Whose signature: `"request"`, `"response"`, `"notification"`.
        what: &'static str,
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
        step: &'static str,
        /// The crypto layer's description.
        detail: String,
    },
    /// ET answered with a non-success `status_code`.
    Api {
        /// The status code.
        code: StatusCode,
        /// ET's message.
        message: String,
        /// Whether ET's signature over the error response was valid.
        authenticated: bool,
    },
    /// A payload (ours before sending, or one received) breaks a rule.
    InvalidPayload {
        /// The field (or the part: `"data"`, `"sensitive_data"`).
        field: String,
        /// The rule broken.
        rule: String,
    },
    /// A response or notification whose signature verified is not in the
    /// signed shape ET writes (see [`ShapeRule`]): its signed text could be
    /// read as another object, so it is not believed.
    Shape {
        /// `"response"` or `"notification"`.
        context: &'static str,
        /// The key at fault, as received.
        key: String,
        /// The rule broken.
        rule: ShapeRule,
    },
    /// The response does not echo the `return_info` sent.
    ReturnInfoMismatch,
    /// The request names a `server_type` other than the operation asked for.
    ServerTypeMismatch {
        /// What the caller expected.
        expected: String,
        /// What the request says.
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
    /// A `multipart/form-data` body could not be read.
    MalformedMultipart {
        /// What was wrong with it.
        reason: &'static str,
    },
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
            Error::BadBase64 { field } => write!(f, "field `{field}` is not valid Base64"),
            Error::SignatureMismatch { what } => write!(f, "{what} signature does not verify"),
            Error::Decryption { .. } => f.write_str("sensitive_data could not be decrypted"),
            Error::Crypto { step, detail } => write!(f, "crypto failure at {step}: {detail}"),
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
            Error::InvalidPayload { field, rule } => write!(f, "invalid `{field}`: {rule}"),
            Error::Shape { context, key, rule } => {
                write!(f, "{context} refused: key {key:?} {rule}")
            }
            Error::ReturnInfoMismatch => {
                f.write_str("response does not echo the request's return_info")
            }
            Error::ServerTypeMismatch { expected, found } => {
                write!(f, "server_type is `{found}`, expected `{expected}`")
            }
            Error::UnknownMerchant {
                merchant_number,
                sub_merchant_number,
            } => write!(
                f,
                "unknown merchant {merchant_number}/{sub_merchant_number}"
            ),
            Error::UnsupportedContentType(ct) => write!(f, "unsupported content type `{ct}`"),
            Error::MalformedMultipart { reason } => write!(f, "malformed multipart body: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

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

impl From<et_model::ValidationError> for Error {
    fn from(e: et_model::ValidationError) -> Self {
        Error::InvalidPayload {
            field: e.field.to_string(),
            rule: e.rule.to_string(),
        }
    }
}
