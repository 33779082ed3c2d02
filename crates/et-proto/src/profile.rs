//! [`Profile`]: every protocol choice ET's pages leave open, named in one place.

use std::collections::HashMap;

use et_crypto::{KeyPadding, SignHash};
use et_model::{Operation, ServerType, StatusCode};

use crate::sign::SignRule;

/// What to send as `sensitive_data` when an operation has no sensitive fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmptySensitive {
    /// `sensitive_data` and `aeskey` are both `""`. Default: the encryption
    /// page's rule 1 ("empty string, not encrypted", spec 01 §6.1) and the
    /// response page ("`aeskey` empty when nothing is encrypted").
    #[default]
    EmptyString,
    /// Encrypt the text `[]` and send an `aeskey` anyway: what ET's Python
    /// demo does (spec 01 §6.2).
    EncryptEmptyList,
}

/// How `callback_process` is written in requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CallbackEncoding {
    /// A JSON number (`0`). Default: the envelope page types it Int and the
    /// worked example sends the number `1` (spec 01 §4).
    #[default]
    Integer,
    /// A JSON string of the code (`"0"`).
    String,
    /// Always the empty string `""`, as ET's demo sends (spec 01 §4).
    Empty,
}

/// How notification MD5 signatures are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NotifySignRule {
    /// The v2 rule only: salt + sorted `key=value&…` (spec 04 §3.1). Default:
    /// the only rule with a worked example and hash.
    #[default]
    V2,
    /// Accept either the v2 rule or the v1 page's printed form (received
    /// order, empty values as bare keys) with the salt prefixed (spec 01
    /// §8.3, 04 §3.2): for merchants still on legacy v1 notifications.
    V1Compat,
}

/// Every undocumented choice, with the default we chose and why.
///
/// A merchant who learns the real answer during joint testing with ET
/// changes one field:
///
/// ```
/// use et_proto::{Profile, SignRule};
/// let profile = Profile { sign_rule: SignRule::SkipEmpty, ..Profile::default() };
/// assert_eq!(profile.version, "2.0.0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// RSA padding for `aeskey`. Default PKCS#1 v1.5: the page says
    /// "RSA(PKCS V1.5 OEAP)加SHA256"; "PKCS V1.5" is what Python's and Java's
    /// defaults produce (spec 01 Q3).
    pub key_padding: KeyPadding,
    /// When decrypting an `aeskey`, also try the other paddings after
    /// [`key_padding`](Self::key_padding) fails. Default off: only the
    /// configured padding is tried, so a bad `aeskey` costs one RSA
    /// decryption and its timing tells nothing about other paddings (on ET's
    /// side anyone with a registered key sends `aeskey`s). Switch it on when
    /// ET's padding is unknown (spec 01 Q3): a wrong guess then still opens
    /// ET's responses. A candidate key counts only if it is 16 bytes and the
    /// AES step then succeeds.
    pub detect_key_padding: bool,
    /// Hash of the RSA signature. Default SHA-256 ("SHA256withRSA"), the only
    /// hash the encryption page names (spec 01 Q2).
    pub sign_hash: SignHash,
    /// How the sign string is spliced. Default [`SignRule::AllSorted`]: the
    /// page with the rule was cut off (spec 01 Q1), so the default follows
    /// ET's own MD5 helper (spec 01 §8.2), the only splicing code ET published.
    pub sign_rule: SignRule,
    /// Empty `sensitive_data`. Default [`EmptySensitive::EmptyString`]: the
    /// encryption page's rule 1, "empty string, not encrypted" (spec 01
    /// §6.1); ET's demo encrypts `[]` instead, which ET's side accepts too.
    pub empty_sensitive: EmptySensitive,
    /// `callback_process` encoding. Default [`CallbackEncoding::Integer`]:
    /// the envelope page types it Int and its worked example sends a number
    /// (spec 01 §4); ET's demo sends `""`.
    pub callback_process: CallbackEncoding,
    /// Envelope `version`. Default `"2.0.0"`: the envelope page's default, the
    /// worked example and the demo (spec 01 §4).
    pub version: String,
    /// The `server_type` to send for an operation instead of its model
    /// default ([`Operation::SERVER_TYPE`]), keyed by that default; set one
    /// with [`with_server_type`](Self::with_server_type). Default empty,
    /// so every operation sends its model default. Those worth overriding:
    ///
    /// * the order interface: default `create_order`, the newest page (seed
    ///   `002_…`); older pages say `add_special_rent_order`. Both are
    ///   accepted when opening requests.
    /// * "Obtain estimated amount": its page was never readable; the default
    ///   is et-model's guess ([`EstimateAmount::SERVER_TYPE`](et_model::EstimateAmount)).
    /// * "Refund application": its page was never readable; the default is
    ///   et-model's guess ([`ApplyRefund::SERVER_TYPE`](et_model::ApplyRefund)).
    pub server_types: HashMap<ServerType, ServerType>,
    /// Notification signature rule. Default [`NotifySignRule::V2`]: the v2
    /// page's rule, the only one with a worked example and its hash (spec 04
    /// §3.1).
    pub notify_sign_rule: NotifySignRule,
    /// Reject a response whose `return_info` differs from the request's.
    /// Default on: the envelope pages say ET echoes it unchanged (spec 01 §7.3
    /// step 5), so a mismatch means a response to another request.
    pub check_return_info: bool,
    /// Send a fresh random `return_info` (22 letters and digits) when the
    /// caller gives none. Default on: ET's replies carry nothing else that
    /// binds them to the request, so with
    /// [`check_return_info`](Self::check_return_info) a signed reply to
    /// another request is refused. Off: an empty `return_info`, as ET's demo
    /// sends.
    pub random_return_info: bool,
    /// Top-level keys ET's responses carry besides the nine documented ones
    /// (`aeskey`, `count`, `data`, `extend_info`, `message`, `return_info`,
    /// `sensitive_data`, `status_code`, `version`). Default none: a response
    /// with any other key is refused, because an extra key is how a signed
    /// text is re-split into a forged object (SECURITY.md). A key named here
    /// must then be in every response, like the documented ones: a key that
    /// may be absent could be carved out of the value sorted before it.
    pub extra_response_keys: Vec<String>,
    /// Notification fields allowed besides each kind's documented ones
    /// (and `sign`). Default none: a notification of a known kind with any
    /// other field is refused (answered `FAIL`, so ET delivers it again
    /// once the field is named here).
    pub extra_notification_fields: Vec<String>,
    /// ET's `status_code` for "this `serial_number` was already used", on
    /// which the client retries once with a fresh serial number (ET created
    /// nothing for a refused request). `None` never retries. Default
    /// `100003`: ET's real code is not documented (spec 01 Q8); `100003` is
    /// what the sandbox answers (et-sandbox's code table), so merchants
    /// should confirm it during joint testing with ET.
    pub reused_serial_code: Option<StatusCode>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            key_padding: KeyPadding::Pkcs1v15,
            detect_key_padding: false,
            sign_hash: SignHash::Sha256,
            sign_rule: SignRule::AllSorted,
            empty_sensitive: EmptySensitive::EmptyString,
            callback_process: CallbackEncoding::Integer,
            version: "2.0.0".to_owned(),
            server_types: HashMap::new(),
            notify_sign_rule: NotifySignRule::V2,
            check_return_info: true,
            random_return_info: true,
            extra_response_keys: Vec::new(),
            extra_notification_fields: Vec::new(),
            reused_serial_code: Some(StatusCode::from_code("100003")),
        }
    }
}

impl Profile {
    /// This profile, sending `server_type` for `Op`:
    ///
    /// ```
    /// use et_model::{CreateOrder, ServerType};
    /// use et_proto::Profile;
    /// let legacy = Profile::default().with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder);
    /// assert_eq!(legacy.server_type_for(&ServerType::CreateOrder), ServerType::AddSpecialRentOrder);
    /// ```
    pub fn with_server_type<Op: Operation>(mut self, server_type: ServerType) -> Self {
        self.server_types.insert(Op::SERVER_TYPE, server_type);
        self
    }

    /// The `server_type` sent for an operation whose model default is `default`.
    pub fn server_type_for(&self, default: &ServerType) -> ServerType {
        self.server_types.get(default).unwrap_or(default).clone()
    }

    /// Whether a request's `server_type` selects the operation whose model
    /// default is `default`: the configured name, the model default, and for
    /// orders both documented names.
    pub fn accepts_server_type(&self, default: &ServerType, wire: &str) -> bool {
        wire == self.server_type_for(default).as_str()
            || wire == default.as_str()
            || (is_order(default) && is_order(&ServerType::from_code(wire)))
    }

    /// Paddings to try when decrypting an `aeskey`: configured first.
    pub(crate) fn decrypt_paddings(&self) -> Vec<KeyPadding> {
        let mut order = vec![self.key_padding];
        if self.detect_key_padding {
            for padding in [
                KeyPadding::Pkcs1v15,
                KeyPadding::OaepSha256,
                KeyPadding::OaepSha1,
                KeyPadding::OaepSha256Mgf1Sha1,
            ] {
                if !order.contains(&padding) {
                    order.push(padding);
                }
            }
        }
        order
    }
}

fn is_order(server_type: &ServerType) -> bool {
    matches!(
        server_type,
        ServerType::CreateOrder | ServerType::AddSpecialRentOrder
    )
}
