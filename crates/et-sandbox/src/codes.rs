//! The sandbox's `status_code` values and its refusals.
//!
//! The table of codes is [`SandboxCode`]'s documentation, and only there.

use std::fmt;

et_model::name_enum! {
    /// Every `status_code` the sandbox answers with: this list is the
    /// sandbox's status-code table (the crate docs, README and docs/ link here).
    ///
    /// ET documents only `000000` (success) and `200003` (order not awaiting
    /// payment); the sandbox keeps those two and defines the rest, grouped like
    /// ET's one known error: `1xxxxx` for the envelope, `2xxxxx` for the order,
    /// `9xxxxx` for the sandbox itself.
    #[non_exhaustive]
    pub enum SandboxCode ("sandbox status code") {
        /// `000000`: success (ET's documented code).
        Success = "000000",
        /// `100001`: the body is not a JSON envelope (bad JSON, a required envelope field missing or
        /// mistyped, bad Base64).
        MalformedBody = "100001",
        /// `100002`: `merchant_number` / `sub_merchant_number` are not known to the sandbox.
        UnknownMerchant = "100002",
        /// `100003`: this merchant has already used this `serial_number`.
        DuplicateSerialNumber = "100003",
        /// `100004`: `sign` is missing, not Base64, or does not verify with the merchant's public key.
        BadSignature = "100004",
        /// `100005`: `aeskey` or `sensitive_data` could not be decrypted.
        DecryptionFailed = "100005",
        /// `100006`: `data` / `sensitive_data` do not form a valid payload (field and rule in the message).
        InvalidPayload = "100006",
        /// `100007`: `server_type` names no operation the sandbox knows.
        UnknownServerType = "100007",
        /// `200001`: no such order for this merchant (another merchant's order included).
        OrderNotFound = "200001",
        /// `200002`: this merchant already has an order with this `merchant_order_id`
        /// (the message names it), so a retried create never makes a second order.
        DuplicateMerchantOrderId = "200002",
        /// `200003`: the order is not awaiting payment (payment address, paying; ET's documented code).
        OrderNotAwaitingPayment = "200003",
        /// `200004`: the order already has 5 attachments of this type.
        AttachmentLimit = "200004",
        /// `200005`: the order's status does not allow this action (refund, admin step).
        IllegalOrderState = "200005",
        /// `200006`: the rate table has no rate for this currency.
        UnknownCurrency = "200006",
        /// `200007`: `institution_code` is not in the institution directory (the message names the
        /// field).
        UnknownInstitution = "200007",
        /// `900001`: the sandbox itself failed (database error); the message says where.
        Internal = "900001",
    }
}

impl SandboxCode {
    /// `profile` with the sandbox's own codes named where a merchant's
    /// client acts on a refusal: `100003` as the reused-serial code and
    /// `200002` as the duplicate-order code. ET documents neither, so
    /// `Profile::default()` names none; a client talking to the sandbox
    /// uses this.
    ///
    /// ```
    /// use et_sandbox::SandboxCode;
    /// let profile = SandboxCode::named_in(et_proto::Profile::default());
    /// assert_eq!(profile.reused_serial_code.unwrap().as_str(), "100003");
    /// assert_eq!(profile.duplicate_order_code.unwrap().as_str(), "200002");
    /// ```
    pub fn named_in(profile: et_proto::Profile) -> et_proto::Profile {
        let code = |c: SandboxCode| Some(et_model::ReplyCode::from_code(c.as_str()));
        et_proto::Profile {
            reused_serial_code: code(SandboxCode::DuplicateSerialNumber),
            duplicate_order_code: code(SandboxCode::DuplicateMerchantOrderId),
            ..profile
        }
    }
}

/// A refused request or admin action: the code and a message saying what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The status code.
    pub code: SandboxCode,
    /// Human-readable reason (never carries key material or decrypted data).
    pub message: String,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    pub fn new(code: SandboxCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// `200001` for an order this merchant does not have.
pub(crate) fn order_not_found(order_id: &str) -> Refusal {
    Refusal::new(
        SandboxCode::OrderNotFound,
        format!("order {order_id:?} not found"),
    )
}

/// A payload field the sandbox's own checks refuse, worded as et-proto
/// words a broken [`Rule`](et_model::Rule).
pub(crate) fn invalid(field: &str, rule: &str) -> Refusal {
    Refusal::new(
        SandboxCode::InvalidPayload,
        format!("invalid `{field}`: {rule}"),
    )
}

/// `amount` as a decimal, or why the payload's `field` is refused.
pub(crate) fn decimal(
    field: &str,
    amount: &et_model::Amount,
) -> Result<rust_decimal::Decimal, Refusal> {
    amount
        .to_decimal()
        .map_err(|e| invalid(field, &format!("is not a usable amount ({e})")))
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}

/// The refusal of a request that could not be opened or read. Every
/// decryption failure gets one code and one message (no oracle on which
/// step failed); the step goes to the debug log only.
impl From<&et_proto::Error> for Refusal {
    fn from(e: &et_proto::Error) -> Self {
        use et_proto::Error as E;
        let code = match e {
            E::MalformedJson { .. }
            | E::NotUtf8 { .. }
            | E::DuplicateKey { .. }
            | E::MissingField(_)
            | E::UnsupportedContentType(_)
            | E::MalformedMultipart { .. } => SandboxCode::MalformedBody,
            E::UnknownMerchant { .. } => SandboxCode::UnknownMerchant,
            E::MissingSignature { .. }
            | E::SignatureNotBase64 { .. }
            | E::SignatureMismatch { .. } => SandboxCode::BadSignature,
            E::Decryption { step } => {
                tracing::debug!(?step, "request decryption failed");
                SandboxCode::DecryptionFailed
            }
            E::Validation(_) | E::InvalidPayload { .. } | E::Shape { .. } => {
                SandboxCode::InvalidPayload
            }
            E::ServerTypeMismatch { .. } => SandboxCode::UnknownServerType,
            // No request causes these: they are our own failures or a
            // merchant's reading of ET's answer.
            E::Crypto { .. }
            | E::Api { .. }
            | E::ReturnInfoMismatch
            | E::Notification(_)
            | E::UnsignedSniffedBody { .. } => SandboxCode::Internal,
            // A variant et-proto adds later: a request that is not readable.
            _ => SandboxCode::MalformedBody,
        };
        Refusal::new(code, e.to_string())
    }
}

/// A payload rule broken (`100006`), worded by the mapping above.
impl From<et_model::ValidationError> for Refusal {
    fn from(e: et_model::ValidationError) -> Self {
        Refusal::from(&et_proto::Error::from(e))
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!(error = %e, "sandbox database error");
        Refusal::new(
            SandboxCode::Internal,
            format!("sandbox database error: {e}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_payload_rule_is_refused_in_et_protos_words() {
        let broken = et_model::ValidationError::new("order_id", et_model::Rule::Required);
        let refusal = Refusal::from(broken.clone());
        assert_eq!(refusal.code, SandboxCode::InvalidPayload);
        assert_eq!(
            refusal.message,
            et_proto::Error::Validation(broken).to_string()
        );
    }

    #[test]
    fn codes_are_six_digits_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in SandboxCode::ALL {
            assert_eq!(c.as_str().len(), 6);
            assert!(c.as_str().bytes().all(|b| b.is_ascii_digit()));
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert_eq!(SandboxCode::from_code(c.as_str()), Some(c));
        }
        assert_eq!(SandboxCode::OrderNotAwaitingPayment.as_str(), "200003");
        assert_eq!(SandboxCode::from_code("123456"), None);
    }

    #[test]
    fn every_decryption_step_is_one_refusal_and_signature_faults_one_code() {
        use et_proto::{DecryptionStep as S, Error, Message};
        let steps = [
            S::AeskeyBase64,
            S::SensitiveDataBase64,
            S::Aeskey,
            S::SensitiveData,
            S::SensitiveDataUtf8,
        ];
        let first = Refusal::from(&Error::Decryption { step: steps[0] });
        assert_eq!(first.code, SandboxCode::DecryptionFailed);
        for step in steps {
            assert_eq!(Refusal::from(&Error::Decryption { step }), first);
        }
        let what = Message::Request;
        for e in [
            Error::MissingSignature { what },
            Error::SignatureNotBase64 { what },
            Error::SignatureMismatch { what },
        ] {
            assert_eq!(Refusal::from(&e).code, SandboxCode::BadSignature, "{e}");
        }
    }
}
