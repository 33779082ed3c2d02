//! Fuzzing entry points (feature `fuzzing`, never in a release build): the
//! openers' steps after the RSA signature check, with the AES key handed in
//! instead of unwrapped from `aeskey` by RSA. A fuzzer cannot forge a
//! signature, and the two RSA operations cost ~100x the rest, so through
//! the real openers decryption and parsing get only thousands of inputs a
//! second; these get them all.
//!
//! Each function repeats its opener's steps after `verify_envelope` and the
//! RSA unwrap; keep them in step when an opener changes.
#![cfg(feature = "fuzzing")]
#![doc(hidden)]

use et_crypto::{aes_cbc_decrypt, b64_decode, AesKey, Iv};
use et_model::{Operation, Placement, ReplyCode};
use zeroize::Zeroizing;

use crate::envelope::{parse_output, parse_payload, payload_text, utf8};
use crate::shape;
use crate::{DecryptionStep, Error, Message, Profile, UntypedObject};

/// `sensitive_data` decrypted with `key`, as `envelope::unseal` does after
/// the RSA unwrap (an empty `aeskey` means plain JSON there too).
pub fn unseal(envelope: &UntypedObject, key: &AesKey) -> Result<Zeroizing<String>, Error> {
    let sensitive = envelope.get("sensitive_data");
    if envelope.text("aeskey").unwrap_or_default().is_empty() {
        return Ok(Zeroizing::new(payload_text(sensitive).to_owned()));
    }
    let failed = |step| Error::Decryption { step };
    let ciphertext = b64_decode(payload_text(sensitive))
        .map_err(|_| failed(DecryptionStep::SensitiveDataBase64))?;
    let plaintext = aes_cbc_decrypt(key, Iv::SameAsKey, &ciphertext)
        .map_err(|_| failed(DecryptionStep::SensitiveData))?;
    utf8(plaintext)
}

/// [`crate::Merchant::open`] for `Op` after the signature check: status
/// shape, status code, decryption, the items of both lists.
pub fn open_response<Op: Operation>(body: &[u8], key: &AesKey) -> Result<Vec<Op::Output>, Error> {
    let envelope = UntypedObject::parse_json(body, Message::Response)?;
    shape::check_response(&envelope, &Profile::default())?;
    let code = ReplyCode::from_code(envelope.require("status_code")?);
    if !code.is_success() {
        return Err(Error::Api {
            code,
            message: envelope.text("message").unwrap_or_default().to_owned(),
            authenticated: true,
        });
    }
    let sensitive = unseal(&envelope, key)?;
    let data = payload_text(envelope.get("data"));
    parse_output(Op::OUTPUT_IN, data, &sensitive)
}

/// [`crate::EtSide::open_request`] then [`crate::OpenedRequest::operation`]
/// for `Op`, after the signature check (the `server_type` check aside).
pub fn open_request<Op: Operation>(body: &[u8], key: &AesKey) -> Result<Op, Error> {
    let fields = UntypedObject::parse_json(body, Message::Request)?;
    shape::check_request(&fields)?;
    fields.require("merchant_number")?;
    fields.require("sub_merchant_number")?;
    let sensitive = unseal(&fields, key)?;
    fields.require("serial_number")?;
    fields.require("server_type")?;
    let data = parse_payload(payload_text(fields.get("data")), Placement::Data)?;
    let sensitive = parse_payload(&sensitive, Placement::Sensitive)?;
    Ok(Op::from_parts(data, sensitive))
}
