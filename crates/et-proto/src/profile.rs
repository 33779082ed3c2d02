//! [`Profile`]: every protocol choice ET's pages leave open, named in one place.

use std::collections::HashMap;

use et_crypto::{KeyPadding, SignHash};
use et_model::{Operation, ReplyCode, ServerType};

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
    /// ET's side playing this profile (the sandbox) signs with the v1
    /// printed form, the one this rule adds.
    V1Compat,
}

/// How ET's side posts a notification: what the sandbox (through
/// [`EtSide::notification_body`](crate::EtSide::notification_body)) sends.
/// A merchant's receiver reads every encoding whatever this says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NotifyEncoding {
    /// A JSON object, amounts as JSON numbers. Default: every v2 page's
    /// example is a JSON object, and one snapshot of the v2 description
    /// page says the request body is JSON (spec 04 §2.3, Q1).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`, every value as its text: the v1
    /// payment page says "FormData", and so does the other snapshot of the
    /// v2 description page (spec 04 §2.3, Q1; spec 01 §8.1).
    Form,
}

impl NotifyEncoding {
    /// The `Content-Type` a body in this encoding is posted with.
    pub fn content_type(self) -> &'static str {
        match self {
            NotifyEncoding::Json => "application/json; charset=utf-8",
            NotifyEncoding::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// How `create_order` spells its amount field when writing (both are read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TuitionSpelling {
    /// `tuituon` (sic). Default: the create-order field list, the page that
    /// documents the operation itself (spec 03 §1).
    #[default]
    Tuituon,
    /// `tuition`: how the third-party jump-ordering page spells the same
    /// amount (spec 03, jump ordering).
    Tuition,
}

impl TuitionSpelling {
    /// The wire name of the amount field.
    pub fn field(self) -> &'static str {
        match self {
            TuitionSpelling::Tuituon => "tuituon",
            TuitionSpelling::Tuition => "tuition",
        }
    }
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
    /// Reject a success whose `return_info` differs from the request's, and
    /// mark such a refusal unauthenticated (nothing acts on it). Default on:
    /// the envelope pages say ET echoes it unchanged (spec 01 §7.3 step 5),
    /// so a mismatch means a response to another request.
    pub check_return_info: bool,
    /// Send a fresh random `return_info` (22 letters and digits) when the
    /// caller gives none. Default on: ET's replies carry nothing else that
    /// binds them to the request, so with
    /// [`check_return_info`](Self::check_return_info) a signed reply to
    /// another request is refused. Off: an empty `return_info`, as ET's demo
    /// sends.
    pub random_return_info: bool,
    /// Replies must carry `version` equal to [`version`](Self::version).
    /// Default off: ET's response template has no `version` (spec 01 §5),
    /// and no field we act on depends on it; a `version` that is present is
    /// kept ([`Reply::version`](crate::Reply::version)).
    pub require_version: bool,
    /// Refuse every key ET's pages do not document, as the first releases
    /// did: a response must carry exactly the nine documented keys (and the
    /// [named extras](Self::extra_response_keys)), a notification of a known
    /// kind only its documented fields. Default off: readers are tolerant
    /// (spec README), and the fields we act on are read unambiguously
    /// whatever ET adds (SECURITY.md, "Signed texts that can be re-split").
    pub exact_keys: bool,
    /// Keys ET's responses carry besides the documented ones that are to be
    /// guarded like them: each must be present, and no value may hold
    /// `&key=`. Unknown keys are accepted without this (and kept in
    /// [`Reply::extra`](crate::Reply::extra)); name a key here when you act
    /// on it, or when it sorts between `return_info` and `sensitive_data`
    /// (where an unnamed key is refused, see SECURITY.md). Default none.
    ///
    /// ET's side ([`EtSide::respond`](crate::EtSide::respond), so the
    /// sandbox) adds each of them to every response, with a fresh random
    /// value (22 letters and digits), as ET would add a `trace_id`.
    pub extra_response_keys: Vec<String>,
    /// Whether ET's side writes [`version`](Self::version) into its
    /// responses ([`EtSide::respond`](crate::EtSide::respond), so what the
    /// sandbox plays). Default on: the decryption page's real response
    /// carries `version` (spec 01 §5). Off plays the response template,
    /// which has none. A merchant reads either, unless
    /// [`require_version`](Self::require_version).
    pub response_version: bool,
    /// How ET's side posts notifications (what the sandbox plays). Default
    /// [`NotifyEncoding::Json`]; the v1 page says FormData and the v2
    /// description page's snapshots disagree (spec 04 §2.3, Q1).
    pub notify_encoding: NotifyEncoding,
    /// Notification fields to guard like the documented ones (no value may
    /// hold `&field=`; a payment's `notify_type` is accepted only when
    /// named, since it could be carved out of `extend_info`). Default none.
    pub extra_notification_fields: Vec<String>,
    /// ET's `status_code` for "this `serial_number` was already used", on
    /// which the client sends a repeatable operation once more with a
    /// fresh serial number. `None` never retries. Default `None`: ET's code
    /// is not documented (spec 01 Q8); the sandbox's profile names its own
    /// (`100003`), and `et profile detect` cannot learn it — confirm it
    /// with ET during joint testing.
    pub reused_serial_code: Option<ReplyCode>,
    /// ET's `status_code` for "this `merchant_order_id` already has an
    /// order": when ET refuses a second order this way, resending a lost
    /// `create_order` cannot create a second one, so the client may retry
    /// it. Default `None` (not documented by ET; the sandbox answers
    /// `200002`).
    pub duplicate_order_code: Option<ReplyCode>,
    /// How `create_order` writes its amount. Default
    /// [`TuitionSpelling::Tuituon`]: ET's create-order field list spells it
    /// `tuituon`; its jump-order page spells the same amount `tuition`.
    /// Both spellings are read.
    pub tuition_spelling: TuitionSpelling,
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
            require_version: false,
            exact_keys: false,
            extra_response_keys: Vec::new(),
            response_version: true,
            notify_encoding: NotifyEncoding::Json,
            extra_notification_fields: Vec::new(),
            reused_serial_code: None,
            duplicate_order_code: None,
            tuition_spelling: TuitionSpelling::Tuituon,
        }
    }
}

impl Profile {
    /// The first releases' strict reading: exactly the documented keys
    /// ([`exact_keys`](Self::exact_keys)) and `version` required
    /// ([`require_version`](Self::require_version)).
    pub fn exact() -> Self {
        Profile {
            exact_keys: true,
            require_version: true,
            ..Profile::default()
        }
    }

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

    /// The top-level key of the sensitive payload of the operation whose
    /// model default is `default` that this profile sends under another
    /// name than et-model writes: `(written, sent)`. Only the order
    /// interface's amount ([`tuition_spelling`](Self::tuition_spelling)).
    pub(crate) fn respelled_key(
        &self,
        default: &ServerType,
    ) -> Option<(&'static str, &'static str)> {
        let written = TuitionSpelling::default().field();
        let sent = self.tuition_spelling.field();
        (is_order(default) && sent != written).then_some((written, sent))
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

/// A setting's values by name: how profile files and the `et` command spell
/// them (`sha256`, `oaep-sha1`, `skip-empty`, …). One table per setting.
pub trait SettingName: Sized + Copy + PartialEq + 'static {
    /// What the setting is called in a profile file.
    const SETTING: &'static str;
    /// Every value with its name.
    const NAMES: &'static [(&'static str, Self)];

    /// This value's name.
    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, value)| *value == self)
            .map_or("", |(name, _)| name)
    }

    /// The value whose name is `code`.
    fn from_code(code: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == code)
            .map(|(_, value)| *value)
    }
}

/// Implements [`SettingName`] for each setting: its name in a profile file,
/// then each value's name and variant.
macro_rules! setting_names {
    ($($ty:ident $setting:literal { $($name:literal => $value:ident),+ $(,)? })*) => {
        $(
            impl SettingName for $ty {
                const SETTING: &'static str = $setting;
                const NAMES: &'static [(&'static str, Self)] = &[$(($name, $ty::$value)),+];
            }
        )*
    };
}

setting_names! {
    SignHash "sign_hash" { "sha256" => Sha256, "sha1" => Sha1 }
    KeyPadding "key_padding" {
        "pkcs1" => Pkcs1v15,
        "oaep-sha256" => OaepSha256,
        "oaep-sha1" => OaepSha1,
        "oaep-sha256-mgf1-sha1" => OaepSha256Mgf1Sha1,
    }
    SignRule "sign_rule" { "all-sorted" => AllSorted, "skip-empty" => SkipEmpty }
    EmptySensitive "empty_sensitive" {
        "empty-string" => EmptyString,
        "encrypt-empty-list" => EncryptEmptyList,
    }
    CallbackEncoding "callback_process" { "integer" => Integer, "string" => String, "empty" => Empty }
    NotifySignRule "notify_sign_rule" { "v2" => V2, "v1-compat" => V1Compat }
    NotifyEncoding "notify_encoding" { "json" => Json, "form" => Form }
    TuitionSpelling "tuition_spelling" { "tuituon" => Tuituon, "tuition" => Tuition }
}

/// A setting's value, read and written by name.
#[derive(Clone, Copy)]
struct Named<T>(T);

impl<T: SettingName> serde::Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de, T: SettingName> serde::Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        T::from_code(&name).map(Named).ok_or_else(|| {
            let names: Vec<&str> = T::NAMES.iter().map(|(n, _)| *n).collect();
            serde::de::Error::custom(format_args!(
                "{}: unknown value {name:?}, expected one of {}",
                T::SETTING,
                names.join(", ")
            ))
        })
    }
}

/// A profile file: every setting of [`Profile`] by its field name, values
/// by name, codes as strings. Every key may be left out (the default), an
/// unknown key is refused (a misspelt setting must not pass silently).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ProfileFile {
    sign_hash: Named<SignHash>,
    key_padding: Named<KeyPadding>,
    detect_key_padding: bool,
    sign_rule: Named<SignRule>,
    empty_sensitive: Named<EmptySensitive>,
    callback_process: Named<CallbackEncoding>,
    version: String,
    require_version: bool,
    server_types: std::collections::BTreeMap<String, String>,
    notify_sign_rule: Named<NotifySignRule>,
    check_return_info: bool,
    random_return_info: bool,
    exact_keys: bool,
    extra_response_keys: Vec<String>,
    response_version: bool,
    notify_encoding: Named<NotifyEncoding>,
    extra_notification_fields: Vec<String>,
    reused_serial_code: Option<String>,
    duplicate_order_code: Option<String>,
    tuition_spelling: Named<TuitionSpelling>,
}

impl Default for ProfileFile {
    fn default() -> Self {
        ProfileFile::from(&Profile::default())
    }
}

impl From<&Profile> for ProfileFile {
    fn from(p: &Profile) -> Self {
        let code = |c: &Option<ReplyCode>| c.as_ref().map(|c| c.as_str().to_owned());
        ProfileFile {
            sign_hash: Named(p.sign_hash),
            key_padding: Named(p.key_padding),
            detect_key_padding: p.detect_key_padding,
            sign_rule: Named(p.sign_rule),
            empty_sensitive: Named(p.empty_sensitive),
            callback_process: Named(p.callback_process),
            version: p.version.clone(),
            require_version: p.require_version,
            server_types: p
                .server_types
                .iter()
                .map(|(from, to)| (from.as_str().to_owned(), to.as_str().to_owned()))
                .collect(),
            notify_sign_rule: Named(p.notify_sign_rule),
            check_return_info: p.check_return_info,
            random_return_info: p.random_return_info,
            exact_keys: p.exact_keys,
            extra_response_keys: p.extra_response_keys.clone(),
            response_version: p.response_version,
            notify_encoding: Named(p.notify_encoding),
            extra_notification_fields: p.extra_notification_fields.clone(),
            reused_serial_code: code(&p.reused_serial_code),
            duplicate_order_code: code(&p.duplicate_order_code),
            tuition_spelling: Named(p.tuition_spelling),
        }
    }
}

impl From<ProfileFile> for Profile {
    fn from(f: ProfileFile) -> Self {
        let code = |c: Option<String>| c.map(|c| ReplyCode::from_code(&c));
        Profile {
            key_padding: f.key_padding.0,
            detect_key_padding: f.detect_key_padding,
            sign_hash: f.sign_hash.0,
            sign_rule: f.sign_rule.0,
            empty_sensitive: f.empty_sensitive.0,
            callback_process: f.callback_process.0,
            version: f.version,
            server_types: f
                .server_types
                .into_iter()
                .map(|(from, to)| (ServerType::from_code(&from), ServerType::from_code(&to)))
                .collect(),
            notify_sign_rule: f.notify_sign_rule.0,
            check_return_info: f.check_return_info,
            random_return_info: f.random_return_info,
            require_version: f.require_version,
            exact_keys: f.exact_keys,
            extra_response_keys: f.extra_response_keys,
            response_version: f.response_version,
            notify_encoding: f.notify_encoding.0,
            extra_notification_fields: f.extra_notification_fields,
            reused_serial_code: code(f.reused_serial_code),
            duplicate_order_code: code(f.duplicate_order_code),
            tuition_spelling: f.tuition_spelling.0,
        }
    }
}

/// A profile file that could not be read: where, and serde's account of
/// what (a profile file holds no secret, so the text may be shown).
#[derive(Debug)]
pub struct ProfileFileError(serde_json::Error);

impl std::fmt::Display for ProfileFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a profile file: {}", self.0)
    }
}

impl std::error::Error for ProfileFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Profile {
    /// Reads a profile file (JSON, docs/decisions.md says why): each
    /// [`Profile`] field by name, setting values by name (`"sha1"`,
    /// `"oaep-sha256"`, `"skip-empty"`, … — [`SettingName::NAMES`]),
    /// status codes as strings; every key optional, unknown keys refused.
    ///
    /// ```
    /// use et_proto::{Profile, SignRule};
    /// let profile = Profile::from_json(r#"{"sign_hash": "sha1", "sign_rule": "skip-empty"}"#)?;
    /// assert_eq!(profile.sign_rule, SignRule::SkipEmpty);
    /// assert_eq!(Profile::from_json(&profile.to_json())?, profile);
    /// assert!(Profile::from_json(r#"{"sign_hsh": "sha1"}"#).is_err());
    /// # Ok::<(), et_proto::ProfileFileError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Profile, ProfileFileError> {
        serde_json::from_str::<ProfileFile>(text)
            .map(Profile::from)
            .map_err(ProfileFileError)
    }

    /// This profile as a profile file: every setting, in a fixed order.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&ProfileFile::from(self)).unwrap_or_default();
        text.push('\n');
        text
    }
}
