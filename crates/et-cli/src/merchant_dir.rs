//! The merchant of a sandbox state directory, as `et call` and the demo use it.

use std::path::Path;

use et_crypto::SharedKey;
use et_http::{Client, Endpoint};
use et_proto::Profile;
use et_sandbox::{SandboxDir, SandboxMerchant, MERCHANT_PRIVATE_PEM, MERCHANT_PUBLIC_PEM};

use crate::cli::MerchantArgs;
use crate::error::{CliResult, Failure};
use crate::keys::load_private;
use crate::profile::ProfileOptions;

/// The client of `--dir`'s merchant for `--endpoint`, speaking the profile
/// the directory plays with `profile`'s options over it.
pub(crate) fn client(args: &MerchantArgs, profile: &impl ProfileOptions) -> CliResult<Client> {
    let dir = directory(args)?;
    let endpoint = args.endpoint.as_deref().ok_or_else(|| {
        Failure::usage(
            "--endpoint (or ET_ENDPOINT) is needed: ET's URL, or a sandbox's such as \
             http://127.0.0.1:8877",
        )
    })?;
    let endpoint =
        Endpoint::parse(&api_url(endpoint)).map_err(|e| Failure::usage(e).context("--endpoint"))?;
    check_state_dir(dir)?;
    let merchant = SandboxMerchant::load(dir).map_err(Failure::usage)?;
    let profile = profile.over(merchant.profile)?;
    Client::new(endpoint, merchant.credentials, profile).map_err(Failure::usage)
}

/// `--dir`, which must be given (or ET_SANDBOX_DIR).
pub(crate) fn directory(args: &MerchantArgs) -> CliResult<&Path> {
    args.dir.as_deref().ok_or_else(|| {
        Failure::usage(
            "--dir (or ET_SANDBOX_DIR) is needed: the directory `et sandbox init --dir DIR` made",
        )
    })
}

/// The sandbox's API path, which `et sandbox serve` prints after its base URL.
const SANDBOX_API_PATH: &str = "/server";

/// `url`, or the sandbox's API URL when `url` is a loopback sandbox's base
/// URL (plain http to loopback with no path), as `et sandbox admin`
/// accepts it. ET's own endpoints are https with a path: never rewritten.
fn api_url(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(uri)
            if uri.scheme_str() == Some("http")
                && uri.path_and_query().is_none_or(|p| p.as_str() == "/") =>
        {
            format!("{}{SANDBOX_API_PATH}", url.trim_end_matches('/'))
        }
        _ => url.to_owned(),
    }
}

/// `dir` holds a sandbox's state (its `merchant.json`), or the failure says
/// how to make one.
pub(crate) fn check_state_dir(dir: &Path) -> CliResult {
    if dir.join(et_sandbox::MERCHANT_JSON).is_file() {
        return Ok(());
    }
    let what = match dir.is_dir() {
        true => "holds no sandbox state (no merchant.json)",
        false => "does not exist",
    };
    Err(Failure::usage(format_args!(
        "{}: {what}; `et sandbox init --dir {}` makes one",
        dir.display(),
        dir.display()
    )))
}

/// Makes the key at `source` (a key file or a `pkcs11:` URI) the merchant's
/// of `dir`: the sandbox learns its public half (`merchant-public.pem`) and
/// the key the sandbox made is deleted, so that only `source` can sign.
pub(crate) fn adopt_key(dir: &Path, source: &Path) -> CliResult<SharedKey> {
    let key = load_private(source)?;
    let sandbox = SandboxDir::new(dir);
    let public = key.public_key().to_spki_pem().map_err(Failure::usage)?;
    let public_file = sandbox.file(MERCHANT_PUBLIC_PEM);
    std::fs::write(&public_file, public)
        .map_err(|e| Failure::usage(e).context(public_file.display()))?;
    let private_file = sandbox.file(MERCHANT_PRIVATE_PEM);
    std::fs::remove_file(&private_file)
        .map_err(|e| Failure::usage(e).context(private_file.display()))?;
    Ok(key)
}

/// The profile for talking to the sandbox of `dir`: the one it plays
/// (`profile.json`, the sandbox's codes named), unless `--profile` names
/// another file, with each option given on the command line over it.
pub(crate) fn profile(dir: &Path, args: &impl ProfileOptions) -> CliResult<Profile> {
    check_state_dir(dir)?;
    args.over(SandboxDir::new(dir).profile().map_err(Failure::usage)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sandbox_base_url_means_its_api_and_other_urls_stay_as_given() {
        use super::api_url;
        assert_eq!(
            api_url("http://127.0.0.1:8877"),
            "http://127.0.0.1:8877/server"
        );
        assert_eq!(
            api_url("http://127.0.0.1:8877/"),
            "http://127.0.0.1:8877/server"
        );
        assert_eq!(
            api_url("http://127.0.0.1:8877/server"),
            "http://127.0.0.1:8877/server"
        );
        assert_eq!(api_url("https://et.example/"), "https://et.example/");
    }

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
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join(et_sandbox::MERCHANT_JSON), "{}").expect("merchant.json");
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
