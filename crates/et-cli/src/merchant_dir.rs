//! The merchant of a sandbox state directory, as `et call` and the demo use it.

use std::path::Path;

use et_proto::{Credentials, Profile};
use et_sandbox::{SandboxDir, SandboxMerchant};

use crate::cli::ProfileArgs;
use crate::error::{CliResult, Failure};

/// Credentials from `merchant.json`, `merchant-private.pem` and `et-public.pem` in `dir`.
pub(crate) fn credentials(dir: &Path) -> CliResult<Credentials> {
    SandboxMerchant::load(dir)
        .map(|merchant| merchant.credentials)
        .map_err(Failure::usage)
}

/// The profile for talking to the sandbox of `dir`: the one it plays
/// (`profile.json`, the sandbox's codes named), unless `--profile` names
/// another file, with each option given on the command line over it.
pub(crate) fn profile(dir: &Path, args: &ProfileArgs) -> CliResult<Profile> {
    args.over(SandboxDir::new(dir).profile().map_err(Failure::usage)?)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use et_crypto::SignHash;
    use et_proto::{NotifyEncoding, Profile};

    use crate::cli::{Cli, Command};

    fn profile_with(dir: &std::path::Path, options: &[&str]) -> Profile {
        let mut args = vec!["et", "call", "--endpoint", "http://127.0.0.1:1/server"];
        args.extend(["--dir", dir.to_str().unwrap(), "get_rate"]);
        args.extend_from_slice(options);
        match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Call(call)) => super::profile(dir, &call.profile).unwrap(),
            other => panic!("unexpected parse: {other:?}"),
        }
    }

    #[test]
    fn the_directory_profile_is_kept_but_for_options_given_even_at_their_default() {
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
        assert_eq!(profile_with(dir.path(), &[]), played);
        assert_eq!(
            profile_with(
                dir.path(),
                &["--api-version", "3.0.0", "--sign-hash", "sha256"]
            ),
            Profile {
                version: "3.0.0".into(),
                sign_hash: SignHash::Sha256,
                ..played
            }
        );
    }
}
