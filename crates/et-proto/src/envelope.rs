//! The steps both directions share: sealing and unsealing `sensitive_data`,
//! signing and verifying an envelope, reading the JSON-in-a-string payloads.
//!
//! A request (merchant → ET) and a response (ET → merchant) use the same
//! steps with the roles swapped, so each step exists once.

use et_crypto::{AesKey, Iv, KeyUnwrap, PublicKey, Signer};
use et_model::Placement;
use serde::de::DeserializeOwned;
use std::mem::take;

use zeroize::Zeroizing;

use crate::error::{CryptoStep, DecryptionStep, Error, Message, PayloadFault};
use crate::profile::{EmptySensitive, Profile};
use crate::raw::{UntypedObject, UntypedValue, ValueKind};
use crate::rollover::VerifiedBy;
use crate::sign::{sign_string_with, SIGN_KEY};

/// `sensitive_data` and `aeskey` as they go on the wire.
pub(crate) struct Sealed {
    pub(crate) sensitive_data: String,
    pub(crate) aeskey: String,
}

/// Whether a payload's JSON text carries nothing (whitespace anywhere
/// ignored). Compared without a compacted copy: every request and response
/// passes here, and a long payload differs within its first few characters.
fn is_empty_json(json: &str) -> bool {
    let compact = || json.chars().filter(|c| !c.is_whitespace());
    ["", "{}", "[]", "null", "\"\""]
        .iter()
        .any(|empty| compact().eq(empty.chars()))
}

/// Encrypts `json` for `recipient`: a fresh AES key (IV = key), Base64
/// ciphertext, RSA-encrypted key. Empty payloads follow
/// [`Profile::empty_sensitive`].
pub(crate) fn seal(json: &str, recipient: &PublicKey, profile: &Profile) -> Result<Sealed, Error> {
    let plaintext = if is_empty_json(json) {
        match profile.empty_sensitive {
            EmptySensitive::EmptyString => {
                return Ok(Sealed {
                    sensitive_data: String::new(),
                    aeskey: String::new(),
                })
            }
            EmptySensitive::EncryptEmptyList => "[]",
        }
    } else {
        json
    };
    let key = AesKey::generate();
    let ciphertext = et_crypto::aes_cbc_encrypt(&key, Iv::SameAsKey, plaintext.as_bytes());
    let wrapped = recipient
        .encrypt_key(profile.key_padding, key.as_bytes())
        .map_err(CryptoStep::Aeskey.failed())?;
    Ok(Sealed {
        sensitive_data: et_crypto::b64_encode(ciphertext),
        aeskey: et_crypto::b64_encode(wrapped),
    })
}

/// Step two of opening a verified envelope: the AES keys its `aeskey` may
/// hold, unwrapped with our private key, one per padding of
/// [`Profile::decrypt_paddings`] that gives a 16-byte key (one padding
/// unless padding detection is switched on). Empty when `aeskey` is empty
/// (the payload is plain) or when no padding unwraps it: [`open_sealed`]
/// tells those apart, so that every failure is reported in one place.
pub(crate) fn unwrap_keys(
    envelope: &UntypedObject,
    own: &dyn KeyUnwrap,
    profile: &Profile,
) -> Result<Vec<AesKey>, Error> {
    let aeskey = envelope.text("aeskey").unwrap_or_default();
    if aeskey.is_empty() {
        return Ok(Vec::new());
    }
    let wrapped = et_crypto::b64_decode(aeskey).map_err(|_| Error::Decryption {
        step: DecryptionStep::AeskeyBase64,
    })?;
    Ok(profile
        .decrypt_paddings()
        .into_iter()
        .filter_map(|padding| own.decrypt_key(padding, &wrapped).ok())
        .filter_map(|raw_key| AesKey::from_slice(&raw_key).ok())
        .collect())
}

/// Step three: an envelope's `sensitive_data` decrypted with the first of
/// `keys` that opens it, as JSON text. With an empty `aeskey` the field is
/// taken as plain JSON (`""`, `"[]"`, or an object as drawn on ET's
/// operation pages).
///
/// Every failure is the one [`Error::Decryption`], its step kept for local
/// logs only.
pub(crate) fn open_sealed(
    envelope: &UntypedObject,
    keys: &[AesKey],
) -> Result<Zeroizing<String>, Error> {
    if envelope.text("aeskey").unwrap_or_default().is_empty() {
        return Ok(Zeroizing::new(
            payload_text(envelope.get("sensitive_data")).to_owned(),
        ));
    }
    let failed = |step| Error::Decryption { step };
    let mut ciphertext = et_crypto::b64_decode(envelope.text("sensitive_data").unwrap_or_default())
        .map_err(|_| failed(DecryptionStep::SensitiveDataBase64))?;
    if keys.is_empty() {
        return Err(failed(DecryptionStep::Aeskey));
    }
    let mut keys = keys.iter().peekable();
    while let Some(key) = keys.next() {
        // In place on the last try only: an earlier one must leave the
        // ciphertext for the next key.
        let plaintext = match keys.peek() {
            None => et_crypto::aes_cbc_decrypt_owned(key, Iv::SameAsKey, take(&mut ciphertext)),
            Some(_) => et_crypto::aes_cbc_decrypt(key, Iv::SameAsKey, &ciphertext),
        };
        if let Ok(plaintext) = plaintext {
            return utf8(plaintext);
        }
    }
    Err(failed(DecryptionStep::SensitiveData))
}

pub(crate) fn utf8(mut bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, Error> {
    let owned = std::mem::take(&mut *bytes);
    String::from_utf8(owned).map(Zeroizing::new).map_err(|e| {
        drop(Zeroizing::new(e.into_bytes()));
        Error::Decryption {
            step: DecryptionStep::SensitiveDataUtf8,
        }
    })
}

/// Signs `envelope` (every key but `sign`) and sets `sign` in place.
pub(crate) fn sign_envelope(
    envelope: &mut UntypedObject,
    key: &dyn Signer,
    profile: &Profile,
) -> Result<(), Error> {
    let text = sign_string_with(envelope, profile.sign_rule);
    let signature = key
        .sign(profile.sign_hash, text.as_bytes())
        .map_err(CryptoStep::Sign.failed())?;
    envelope.insert(
        SIGN_KEY,
        UntypedValue::string(et_crypto::b64_encode(signature)),
    );
    Ok(())
}

/// Verifies `sign` over every other key actually present with each of
/// `keys` in turn, and names the one that verified. A failure is the one
/// [`Error::SignatureMismatch`] whichever key came closest.
pub(crate) fn verify_envelope<'k>(
    envelope: &UntypedObject,
    keys: impl IntoIterator<Item = (&'k PublicKey, &'k str)>,
    profile: &Profile,
    what: Message,
) -> Result<VerifiedBy, Error> {
    let sign = envelope.text(SIGN_KEY).unwrap_or_default();
    if sign.is_empty() {
        return Err(Error::MissingSignature { what });
    }
    let signature = et_crypto::b64_decode(sign).map_err(|_| Error::SignatureNotBase64 { what })?;
    let text = sign_string_with(envelope, profile.sign_rule);
    keys.into_iter()
        .find(|(key, _)| {
            key.verify(profile.sign_hash, text.as_bytes(), &signature)
                .is_ok()
        })
        .map(|(_, name)| VerifiedBy::named(name))
        .ok_or(Error::SignatureMismatch { what })
}

/// The JSON text a payload field carries: a string's content (the
/// documented form, `"data":"{}"`), or a nested object or array as drawn on
/// ET's operation pages. Absent or `null` is empty.
pub(crate) fn payload_text(value: Option<&UntypedValue>) -> &str {
    match value {
        Some(v) if v.kind() == ValueKind::String => v.text(),
        Some(v) if matches!(v.kind(), ValueKind::Object | ValueKind::Array) => v.json(),
        _ => "",
    }
}

/// Reads one payload (a request's `data` or `sensitive_data`).
pub(crate) fn parse_payload<T: DeserializeOwned>(json: &str, part: Placement) -> Result<T, Error> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json).map_err(|e| payload_error(e, part))
}

/// Reads a response list: `[...]`, or tolerantly a single object; empty
/// text, `null` and `{}` are no items.
pub(crate) fn parse_items<T: DeserializeOwned>(
    json: &str,
    part: Placement,
) -> Result<Vec<T>, Error> {
    let trimmed = json.trim();
    if is_empty_json(trimmed) {
        return Ok(Vec::new());
    }
    let parsed = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map(|one| vec![one])
    } else {
        serde_json::from_str(trimmed)
    };
    parsed.map_err(|e| payload_error(e, part))
}

/// A response's items: those of `output_in`, or of the other list when
/// that one is empty (tolerant readers look in both). The list not read
/// must still be empty or one JSON value: a payload is judged alike
/// whether it came plain or sealed (the shape check sees only the plain).
pub(crate) fn parse_output<T: DeserializeOwned>(
    output_in: Placement,
    data: &str,
    sensitive: &str,
) -> Result<Vec<T>, Error> {
    let (first, second) = match output_in {
        Placement::Data => ((data, Placement::Data), (sensitive, Placement::Sensitive)),
        Placement::Sensitive => ((sensitive, Placement::Sensitive), (data, Placement::Data)),
    };
    let items = parse_items(first.0, first.1)?;
    if items.is_empty() {
        return parse_items(second.0, second.1);
    }
    if !is_empty_json(second.0.trim()) {
        check_json(second.0, second.1)?;
    }
    Ok(items)
}

/// A payload that does not fit its type. serde's message can quote the
/// offending value, so it is kept only for `data`; for sensitive parts only
/// a missing or repeated field is named (field names are not secret: they
/// come from our types); anything else says where, not what.
fn payload_error(error: serde_json::Error, part: Placement) -> Error {
    let fault = match part {
        Placement::Data => PayloadFault::Json(error.into()),
        Placement::Sensitive => {
            named_field_fault(&error.to_string()).unwrap_or(PayloadFault::Mismatch {
                line: error.line(),
                column: error.column(),
            })
        }
    };
    Error::InvalidPayload { part, fault }
}

/// A missing or duplicate field, when serde's message is one of those two
/// (which name a field of our types, never a value); `None` for any other
/// message.
fn named_field_fault(message: &str) -> Option<PayloadFault> {
    let named = |prefix: &str| {
        let name = message.strip_prefix(prefix)?.split('`').next()?;
        let is_name = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        is_name.then(|| name.to_owned())
    };
    named("missing field `")
        .map(PayloadFault::MissingField)
        .or_else(|| named("duplicate field `").map(PayloadFault::DuplicateField))
}

/// Refuses payload text that is not one JSON value, before anything is sent.
pub(crate) fn check_json(json: &str, part: Placement) -> Result<(), Error> {
    serde_json::from_str::<&serde_json::value::RawValue>(json)
        .map(drop)
        .map_err(|e| not_json(&e, part))
}

/// Text that is not one JSON value: where, never what.
pub(crate) fn not_json(error: &serde_json::Error, part: Placement) -> Error {
    Error::InvalidPayload {
        part,
        fault: PayloadFault::NotJson {
            line: error.line(),
            column: error.column(),
        },
    }
}

/// JSON text of a payload we send.
/// A payload's JSON text (an object, as serde wrote it) with its top-level
/// key `from` sent as `to`, every other byte kept.
pub(crate) fn respell(
    json: &str,
    (from, to): (&str, &str),
    part: Placement,
) -> Result<String, Error> {
    let mut object =
        UntypedObject::parse_json(json.as_bytes(), Message::Request).map_err(|_| {
            Error::InvalidPayload {
                part,
                fault: PayloadFault::Unwritable,
            }
        })?;
    object.rename(from, to);
    Ok(object.to_json())
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(
    value: &T,
    part: Placement,
) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|_| Error::InvalidPayload {
        part,
        fault: PayloadFault::Unwritable,
    })
}
