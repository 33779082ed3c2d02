//! Which of our guesses ET follows, learnt from one captured message.
//!
//! ET's pages leave open how a message is signed and sealed (the
//! [`Profile`] settings). Given one reply (with the merchant's key and ET's
//! public key) or one notification (with the salt), [`reply`] and
//! [`notification`] try every combination of the settings that change how
//! that message is signed or sealed, and return the profile under which it
//! verifies and opens. Settings the message cannot tell apart (a reply
//! with nothing encrypted says nothing about `aeskey`'s padding) keep the
//! base profile's value and are listed in [`Detected::indistinct`].
//!
//! ```
//! use et_proto::{detect, Credentials, EtSide, Merchant, Profile, Response};
//! use et_crypto::{PrivateKey, SignHash};
//! # let merchant_pem = PrivateKey::generate(1024)?.to_pkcs8_pem()?;
//! # let et_pem = PrivateKey::generate(1024)?.to_pkcs8_pem()?;
//! # let (merchant_pem, et_pem) = (merchant_pem.as_bytes(), et_pem.as_bytes());
//! let merchant_key = PrivateKey::load(merchant_pem)?;
//! let et = EtSide::new(PrivateKey::load(et_pem)?, Profile::default());
//! let merchant = Merchant::new(
//!     Credentials::new("ET1", "ET1S1", merchant_key.clone(), et.public_key().clone(), "salt"),
//!     Profile::default(),
//! );
//! let now = std::time::SystemTime::now();
//! let request = merchant.build(&et_model::GetPayUrl::new("ET1"), now)?;
//! let opened = et.open_request(&request.body, |_, _| Some(merchant_key.public_key().clone()), now)?;
//! // ET answers with SHA-1 signatures, which our default does not expect.
//! let et_sha1 = EtSide::new(PrivateKey::load(et_pem)?, Profile { sign_hash: SignHash::Sha1, ..Profile::default() });
//! let body = et_sha1.respond(merchant_key.public_key(), &Response::success(&opened))?;
//!
//! let found = detect::reply(&Profile::default(), &merchant_key.clone().into(), et.public_key(), &body).unwrap();
//! assert_eq!(found.profile.sign_hash, SignHash::Sha1);
//! assert_eq!(found.changed_from(&Profile::default()), [("sign_hash", "sha1")]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::SystemTime;

use et_crypto::{KeyPadding, PublicKey, SharedKey, SignHash};

use crate::envelope::verify_envelope;
use crate::merchant::{Credentials, Merchant};
use crate::notification::{MatchedRule, NotificationVerifier};
use crate::profile::{EmptySensitive, NotifySignRule, Profile, SettingName};
use crate::raw::UntypedObject;
use crate::sign::SignRule;
use crate::{Error, Message};

/// The time detection verifies at: it accepts no rollover key or salt
/// (only the one key or salt given), so no entry's `not_after` is read.
const NO_ROLLOVER: SystemTime = SystemTime::UNIX_EPOCH;

/// What a captured message told: the profile it verifies under, and the
/// settings it could not tell apart (kept from the base profile).
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The base profile with every setting the message decided.
    pub profile: Profile,
    /// Profile-file names of the settings that several values verified
    /// alike (or that the message does not exercise).
    pub indistinct: Vec<&'static str>,
}

impl Detected {
    /// The searched settings whose value differs from `base`'s, as
    /// `(setting, value name)`: what to change, e.g. `("sign_hash", "sha1")`.
    pub fn changed_from(&self, base: &Profile) -> Vec<(&'static str, &'static str)> {
        let mut changed = Vec::new();
        diff(&mut changed, base.sign_hash, self.profile.sign_hash);
        diff(&mut changed, base.sign_rule, self.profile.sign_rule);
        diff(&mut changed, base.key_padding, self.profile.key_padding);
        diff(
            &mut changed,
            base.empty_sensitive,
            self.profile.empty_sensitive,
        );
        diff(
            &mut changed,
            base.notify_sign_rule,
            self.profile.notify_sign_rule,
        );
        changed
    }
}

fn diff<T: SettingName>(out: &mut Vec<(&'static str, &'static str)>, base: T, found: T) {
    if base != found {
        out.push((T::SETTING, found.name()));
    }
}

/// No combination verified the message: what was tried, by setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undetected {
    /// Each combination tried, e.g. `sign_hash=sha1 sign_rule=skip-empty`.
    pub tried: Vec<String>,
}

/// Finds the profile under which `body`, a reply captured from ET, verifies
/// with `et_public` and opens with `merchant_key`: tries every sign hash ×
/// sign rule, then every `aeskey` padding. `base` gives every other setting.
pub fn reply(
    base: &Profile,
    merchant_key: &SharedKey,
    et_public: &PublicKey,
    body: &[u8],
) -> Result<Detected, Undetected> {
    let open = |profile: Profile| {
        let credentials = Credentials::new("", "", merchant_key.clone(), et_public.clone(), "");
        Merchant::new(credentials, profile).open_untyped(None, body, NO_ROLLOVER)
    };
    let (mut tried, found) = search_signed(base, |p| verified(&open(p.clone())));
    let Some((mut profile, mut indistinct)) = found else {
        return Err(Undetected { tried });
    };
    let envelope = UntypedObject::parse_json(body, Message::Response).map_err(|_| Undetected {
        tried: tried.clone(),
    })?;
    if let Some(version) = envelope.text("version") {
        profile.version = version.to_owned();
    } else {
        indistinct.push("version");
    }
    if envelope.text("aeskey").unwrap_or_default().is_empty() {
        indistinct.push(KeyPadding::SETTING);
        profile.empty_sensitive = EmptySensitive::EmptyString;
        return Ok(Detected {
            profile,
            indistinct,
        });
    }
    let opens = |padding: KeyPadding| {
        open(Profile {
            key_padding: padding,
            ..profile.clone()
        })
    };
    let paddings: Vec<KeyPadding> = KeyPadding::NAMES
        .iter()
        .map(|(_, padding)| *padding)
        .filter(|padding| !matches!(opens(*padding), Err(Error::Decryption { .. })))
        .collect();
    for (name, _) in KeyPadding::NAMES {
        tried.push(format!("key_padding={name}"));
    }
    match paddings.as_slice() {
        [] => Err(Undetected { tried }),
        [one] => {
            profile.key_padding = *one;
            Ok(Detected {
                profile,
                indistinct,
            })
        }
        several => {
            if !several.contains(&profile.key_padding) {
                profile.key_padding = several[0];
            }
            indistinct.push(KeyPadding::SETTING);
            Ok(Detected {
                profile,
                indistinct,
            })
        }
    }
}

/// Tries `verifies` on `base` with every sign hash × sign rule: the
/// combinations tried, by name, and of those that verified the base's
/// settings if among them, else the first, with the settings the message
/// could not tell apart (`None` when none verified).
fn search_signed(
    base: &Profile,
    verifies: impl Fn(&Profile) -> bool,
) -> (Vec<String>, Option<(Profile, Vec<&'static str>)>) {
    let mut tried = Vec::new();
    let mut signed = Vec::new();
    for &(hash_name, hash) in SignHash::NAMES {
        for &(rule_name, rule) in SignRule::NAMES {
            tried.push(format!("sign_hash={hash_name} sign_rule={rule_name}"));
            let profile = Profile {
                sign_hash: hash,
                sign_rule: rule,
                detect_key_padding: false,
                ..base.clone()
            };
            if verifies(&profile) {
                signed.push(profile);
            }
        }
    }
    let picked = pick_signed(base, &signed);
    (tried, picked)
}

fn pick_signed(base: &Profile, signed: &[Profile]) -> Option<(Profile, Vec<&'static str>)> {
    let first = signed.first()?;
    let mut indistinct = Vec::new();
    if signed.iter().any(|p| p.sign_hash != first.sign_hash) {
        indistinct.push(SignHash::SETTING);
    }
    if signed.iter().any(|p| p.sign_rule != first.sign_rule) {
        indistinct.push(SignRule::SETTING);
    }
    let keeps_base = |p: &&Profile| p.sign_hash == base.sign_hash && p.sign_rule == base.sign_rule;
    let profile = signed.iter().find(keeps_base).unwrap_or(first).clone();
    Some((profile, indistinct))
}

/// Finds the signature settings under which `body`, a request on its way
/// to ET, verifies with the merchant's public key: tries every sign hash ×
/// sign rule (ET's side of [`reply`]: what a sandbox or a receiving ET
/// tells a merchant whose request does not verify). `base` gives every
/// other setting; a request's encryption is ET's to open and not searched.
pub fn request(
    base: &Profile,
    merchant_key: &PublicKey,
    body: &[u8],
) -> Result<Detected, Undetected> {
    let envelope = UntypedObject::parse_json(body, Message::Request)
        .map_err(|_| Undetected { tried: Vec::new() })?;
    let (tried, found) = search_signed(base, |p| {
        verify_envelope(
            &envelope,
            [(merchant_key, crate::CURRENT)],
            p,
            Message::Request,
        )
        .is_ok()
    });
    let (profile, indistinct) = found.ok_or(Undetected { tried })?;
    Ok(Detected {
        profile,
        indistinct,
    })
}

/// Whether an opened reply's signature verified: a success, a refusal
/// marked authenticated, or a failure after the signature (decryption,
/// payload). A refusal whose signature did not verify is an `Api` error too.
fn verified<T>(opened: &Result<T, Error>) -> bool {
    !matches!(
        opened,
        Err(Error::SignatureMismatch { .. }
            | Error::MissingSignature { .. }
            | Error::SignatureNotBase64 { .. }
            | Error::Api {
                authenticated: false,
                ..
            })
    )
}

/// Finds the notification signature rule under which `body` verifies with
/// `salt`: the v2 rule, or the v1 page's printed form.
pub fn notification(
    base: &Profile,
    salt: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Detected, Undetected> {
    let verifier = NotificationVerifier::new(salt, NotifySignRule::V1Compat)
        .with_extra_fields(base.extra_notification_fields.iter().cloned());
    let tried = NotifySignRule::NAMES
        .iter()
        .map(|(name, _)| format!("notify_sign_rule={name}"))
        .collect();
    let view = verifier
        .verify(content_type, body, NO_ROLLOVER)
        .map_err(|_| Undetected { tried })?;
    let notify_sign_rule = match view.matched_rule() {
        MatchedRule::V2 => NotifySignRule::V2,
        MatchedRule::V1Printed => NotifySignRule::V1Compat,
    };
    Ok(Detected {
        profile: Profile {
            notify_sign_rule,
            ..base.clone()
        },
        indistinct: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use et_crypto::{PrivateKey, SignHash};
    use et_model::ReplyCode;

    use crate::{EtSide, Profile, Response};

    /// Two fresh 1024-bit keys, ET's and the merchant's, and the default
    /// profile signing with SHA-1.
    fn keys_and_sha1() -> (PrivateKey, PrivateKey, Profile) {
        let key = || PrivateKey::generate(1024).expect("a 1024-bit key");
        let sha1 = Profile {
            sign_hash: SignHash::Sha1,
            ..Profile::default()
        };
        (key(), key(), sha1)
    }

    #[test]
    fn a_request_signed_with_sha1_is_detected_as_sha1() {
        let (et_key, merchant_key, sha1) = keys_and_sha1();
        let credentials = crate::Credentials::new(
            "ET1",
            "ET1S1",
            merchant_key.clone(),
            et_key.public_key().clone(),
            "salt",
        );
        let request = crate::Merchant::new(credentials, sha1)
            .build(&et_model::GetPayUrl::new("ET1"), super::NO_ROLLOVER)
            .unwrap();
        let found = super::request(
            &Profile::default(),
            merchant_key.public_key(),
            &request.body,
        )
        .unwrap();
        assert_eq!(
            found.changed_from(&Profile::default()),
            [("sign_hash", "sha1")]
        );
        let refused = super::request(&Profile::default(), et_key.public_key(), &request.body);
        assert_eq!(
            refused.map_err(|u| u.tried.len()),
            Err(4),
            "every hash and rule tried"
        );
    }

    #[test]
    fn a_signed_refusal_is_detected_under_its_hash_not_taken_as_verified_under_every_one() {
        let (et_key, merchant_key, sha1) = keys_and_sha1();
        let refusal = Response::new(ReplyCode::from_code("100004"), "bad signature", "r");
        let body = EtSide::new(et_key.clone(), sha1)
            .respond(merchant_key.public_key(), &refusal)
            .unwrap();
        let found = super::reply(
            &Profile::default(),
            &merchant_key.clone().into(),
            et_key.public_key(),
            &body,
        )
        .unwrap();
        assert_eq!(
            found.changed_from(&Profile::default()),
            [("sign_hash", "sha1")]
        );
    }
}
