//! The merchant of a sandbox state directory, as `et call` and the demo use it.

use std::path::Path;

use et_proto::{Credentials, Profile};
use et_sandbox::{SandboxDir, ET_PUBLIC_PEM, MERCHANT_PRIVATE_PEM};
use serde_json::{Map, Value};

use crate::error::{CliResult, Failure};
use crate::keys::{load_private, load_public};

/// Credentials from `merchant.json`, `merchant-private.pem` and `et-public.pem` in `dir`.
pub(crate) fn credentials(dir: &Path) -> CliResult<Credentials> {
    let sandbox = SandboxDir::new(dir);
    let merchant = sandbox.merchant().map_err(Failure::usage)?;
    Ok(Credentials::new(
        merchant.merchant_number.as_str(),
        merchant.sub_merchant_number.as_str(),
        load_private(&sandbox.file(MERCHANT_PRIVATE_PEM))?,
        load_public(&sandbox.file(ET_PUBLIC_PEM))?,
        merchant.salt.as_str(),
    ))
}

/// The profile for talking to the sandbox of `dir`: the one it plays
/// (`profile.json`, the sandbox's codes named), with each setting of
/// `given` (the command line's) that differs from the default laid over it.
pub(crate) fn profile(dir: &Path, given: &Profile) -> CliResult<Profile> {
    let stored = SandboxDir::new(dir).profile().map_err(Failure::usage)?;
    let settings = |p: &Profile| serde_json::from_str::<Map<String, Value>>(&p.to_json());
    let merge = || {
        let default = settings(&Profile::default())?;
        let mut merged = settings(&stored)?;
        for (key, value) in settings(given)? {
            if default.get(&key) != Some(&value) {
                merged.insert(key, value);
            }
        }
        Ok::<_, serde_json::Error>(Value::Object(merged).to_string())
    };
    let text = merge().map_err(Failure::usage)?;
    Profile::from_json(&text).map_err(Failure::usage)
}

#[cfg(test)]
mod tests {
    use et_crypto::SignHash;
    use et_proto::{NotifyEncoding, Profile};

    #[test]
    fn the_directory_profile_is_kept_but_for_settings_given_otherwise() {
        let dir = et_testkit::merchant_dir();
        let stored = Profile {
            sign_hash: SignHash::Sha1,
            notify_encoding: NotifyEncoding::Form,
            ..Profile::default()
        };
        et_sandbox::SandboxDir::new(dir.path())
            .set_profile(&stored)
            .expect("profile.json");
        let played = et_sandbox::SandboxCode::named_in(stored);
        assert_eq!(
            super::profile(dir.path(), &Profile::default()).unwrap(),
            played
        );
        let given = Profile {
            version: "3.0.0".into(),
            ..Profile::default()
        };
        let merged = super::profile(dir.path(), &given).unwrap();
        assert_eq!(
            merged,
            Profile {
                version: "3.0.0".into(),
                ..played
            }
        );
    }
}
