//! Fuzzing entry points (feature `fuzzing`, never in a release build): the
//! openers' steps after the RSA signature check and the RSA unwrap of
//! `aeskey`, with the AES key handed in. A fuzzer cannot forge a
//! signature, and the two RSA operations cost ~100x the rest, so through
//! the real openers decryption and parsing get only thousands of inputs a
//! second; these get them all. They call the openers' own steps
//! ([`crate::Merchant::open`], [`crate::EtSide::open_request`]), so they
//! cannot drift from them.
#![cfg(feature = "fuzzing")]
#![doc(hidden)]

use et_crypto::AesKey;
use et_model::Operation;

use crate::et_side::opened_request;
use crate::merchant::{accept_response, read_output};
use crate::rollover::VerifiedBy;
use crate::untyped::read_operation;
use crate::{envelope, shape};
use crate::{Error, Message, Profile, UntypedObject};

/// [`crate::Merchant::open`] for `Op` after the signature check and the
/// unwrap of `aeskey` into `key` (no `return_info` echo to check against).
pub fn open_response<Op: Operation>(body: &[u8], key: &AesKey) -> Result<Vec<Op::Output>, Error> {
    let envelope = UntypedObject::parse_json(body, Message::Response)?;
    let signed = Ok(VerifiedBy::named(crate::CURRENT));
    accept_response(&envelope, signed, None, &Profile::default())?;
    let sensitive = envelope::open_sealed(&envelope, std::slice::from_ref(key))?;
    read_output::<Op>(&envelope, &sensitive)
}

/// [`crate::EtSide::open_request`] then [`crate::OpenedRequest::operation`]
/// for `Op`, after the signature check and the unwrap of `aeskey` into
/// `key` (the `server_type` check aside).
pub fn open_request<Op: Operation>(body: &[u8], key: &AesKey) -> Result<Op, Error> {
    let fields = UntypedObject::parse_json(body, Message::Request)?;
    shape::check_request(&fields)?;
    let opened = opened_request(fields, std::slice::from_ref(key), Profile::default())?;
    read_operation(&opened.data, &opened.sensitive)
}
