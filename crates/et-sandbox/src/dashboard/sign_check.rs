//! What the request log says about an envelope that did not verify: the
//! sign string the sandbox computed, the hash, rule and key it verified
//! with, and which settings would have verified it ([`et_proto::detect`],
//! the search `et profile detect` runs on a reply).

use et_proto::{detect, sign_string_with, Message, SettingName, UntypedObject, SIGN_KEY};

use crate::app::App;
use crate::config::MERCHANT_PUBLIC_PEM;

/// The signature check of one logged envelope, redone for the page.
#[derive(Debug)]
pub(crate) struct SignCheck {
    /// The sign string under the sandbox's sign rule.
    pub sign_string: String,
    /// The sandbox's `sign_hash`, by name.
    pub hash: &'static str,
    /// The sandbox's `sign_rule`, by name.
    pub rule: &'static str,
    /// The key used, in words (whose, how long, where it came from); or
    /// why there was none.
    pub key: Result<String, String>,
    /// `sign` as sent is missing or not Base64, in words.
    pub sign_problem: Option<&'static str>,
    /// What the search found.
    pub verdict: Verdict,
}

/// Which settings verify the envelope.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The sandbox's own: the signature was not what refused the envelope.
    Verifies,
    /// These `(setting, value)` changes would verify it.
    VerifiesWith(Vec<(&'static str, &'static str)>),
    /// No hash and rule verify it with this key (the wrong key, or a body
    /// changed after signing); every combination tried.
    Nothing(Vec<String>),
    /// No key to try (an unknown merchant).
    NoKey,
}

impl SignCheck {
    /// The check of `body`, an envelope as received, if it reads as one.
    pub(crate) fn of(app: &App, body: &str) -> Option<SignCheck> {
        let envelope = UntypedObject::parse_json(body.as_bytes(), Message::Request).ok()?;
        let keys = app.keys();
        let profile = keys.et.profile();
        let sign = envelope.text(SIGN_KEY).unwrap_or_default();
        let sign_problem = if sign.is_empty() {
            Some("the envelope has no sign")
        } else if et_crypto::b64_decode(sign).is_err() {
            Some("sign is not Base64")
        } else {
            None
        };
        let merchant = envelope.text("merchant_number").unwrap_or_default();
        let sub = envelope.text("sub_merchant_number").unwrap_or_default();
        let found = app.merchant_key(merchant, sub);
        let key = found
            .map(|k| {
                format!(
                    "the public key registered for merchant {merchant} / {sub} \
                     ({}-bit RSA, from {MERCHANT_PUBLIC_PEM} when the sandbox started)",
                    k.bits()
                )
            })
            .ok_or_else(|| format!("none: merchant {merchant:?} / {sub:?} is not registered"));
        let verdict = match found {
            None => Verdict::NoKey,
            Some(k) => match detect::request(profile, k, body.as_bytes()) {
                Ok(found) => match found.changed_from(profile) {
                    changed if changed.is_empty() => Verdict::Verifies,
                    changed => Verdict::VerifiesWith(changed),
                },
                Err(undetected) => Verdict::Nothing(undetected.tried),
            },
        };
        Some(SignCheck {
            sign_string: sign_string_with(&envelope, profile.sign_rule),
            hash: profile.sign_hash.name(),
            rule: profile.sign_rule.name(),
            key,
            sign_problem,
            verdict,
        })
    }
}
