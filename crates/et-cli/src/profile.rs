//! Profiles: from `--profile FILE` and the options that override it to
//! [`et_proto::Profile`]; `et profile show` and `et profile detect`.

use et_model::{CreateOrder, ServerType};
use et_proto::detect::{self, Detected};
use et_proto::Profile;

use crate::cli::{
    NotifyOptions, OrderServerTypeArg, ProfileArgs, ProfileDetectArgs, ProfileFileArg,
    ReplyOptions, RequestOptions,
};
use crate::error::{CliResult, Failure};
use crate::input::{read_input_or_stdin, read_profile_file, read_salt_file, Input};
use crate::keys::{load_private, load_public};

/// A command's profile options: the profile file (or a base profile) with
/// the options given laid over it.
pub(crate) trait ProfileOptions {
    /// `--profile FILE`.
    fn file(&self) -> &ProfileFileArg;
    /// Lays the options given over `profile`.
    fn apply(&self, profile: Profile) -> Profile;

    /// The profile file's (or the default) with every option given applied over it.
    fn to_profile(&self) -> CliResult<Profile> {
        self.over(Profile::default())
    }

    /// The profile file's, or else `base` (a sandbox directory's), with
    /// every option given applied over it.
    fn over(&self, base: Profile) -> CliResult<Profile> {
        let profile = match &self.file().profile_file {
            Some(path) => read_profile_file(path, "--profile")?,
            None => base,
        };
        Ok(self.apply(profile))
    }
}

impl ReplyOptions {
    pub(crate) fn apply(&self, mut profile: Profile) -> Profile {
        set(&mut profile.sign_hash, self.sign_hash);
        set(&mut profile.key_padding, self.key_padding);
        set(&mut profile.sign_rule, self.sign_rule);
        set(&mut profile.empty_sensitive, self.empty_sensitive);
        profile.detect_key_padding |= self.detect_key_padding;
        profile
    }
}

impl RequestOptions {
    pub(crate) fn apply(&self, mut profile: Profile) -> Profile {
        set(&mut profile.callback_process, self.callback_process);
        set(&mut profile.tuition_spelling, self.tuition_spelling);
        set(&mut profile.version, self.api_version.clone());
        match self.order_server_type {
            None => profile,
            Some(OrderServerTypeArg::CreateOrder) => {
                profile.with_server_type::<CreateOrder>(ServerType::CreateOrder)
            }
            Some(OrderServerTypeArg::AddSpecialRentOrder) => {
                profile.with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder)
            }
        }
    }
}

impl NotifyOptions {
    pub(crate) fn apply(&self, mut profile: Profile) -> Profile {
        set(&mut profile.notify_sign_rule, self.notify_sign_rule);
        profile
    }
}

fn set<T>(setting: &mut T, given: Option<T>) {
    if let Some(value) = given {
        *setting = value;
    }
}

/// `et profile show`: the profile the options describe (the default one
/// without options), as a profile file.
pub(crate) fn show(args: &ProfileArgs) -> CliResult {
    crate::output::text(args.to_profile()?.to_json().trim_end())
}

/// `et profile detect`: the profile a captured reply (with both keys) or
/// notification (with the salt) verifies under, on stdout; what it could
/// not tell apart on stderr; exit 1 with what was tried when nothing
/// verifies.
pub(crate) fn detect(args: &ProfileDetectArgs) -> CliResult {
    let base = args.profile.to_profile()?;
    let body = read_input_or_stdin(args.file.as_deref(), Input::Response)?;
    let found = match (&args.salt_file, &args.merchant_key, &args.et_public_key) {
        (Some(salt), _, _) => {
            let salt = read_salt_file(salt)?;
            // As received, as `et notify verify` and the receiver verify it.
            detect::notification(&base, &salt, None, &body)
        }
        (None, Some(key), Some(et)) => {
            detect::reply(&base, &load_private(key)?, &load_public(et)?, &body)
        }
        _ => {
            return Err(Failure::usage(
                "give --salt-file for a notification, or --merchant-key and --et-public-key for a reply",
            ))
        }
    };
    let found = found.map_err(|undetected| {
        let unsigned = args
            .salt_file
            .as_ref()
            .and_then(|_| et_http::unsigned_trailing_whitespace(&body).map(str::to_owned));
        Failure::rejected(format!(
            "the message verifies under none of the combinations tried: {}",
            undetected.tried.join("; ")
        ))
        .hint(unsigned)
    })?;
    if !found.indistinct.is_empty() {
        crate::output::error_line(format_args!(
            "et: this message cannot tell apart the values of {}; kept the base profile's",
            found.indistinct.join(", ")
        ));
    }
    crate::output::text(found.profile.to_json().trim_end())
}

/// "verifies with --sign-hash sha1 --sign-rule skip-empty" when a message
/// that failed under `base` verifies with other settings.
pub(crate) fn verifies_with(found: Option<Detected>, base: &Profile) -> Option<String> {
    settings_hint(&found?.changed_from(base))
}

/// [`verifies_with`] for settings already found (`(setting, value)`).
pub(crate) fn settings_hint(changed: &[(&str, &str)]) -> Option<String> {
    if changed.is_empty() {
        return None;
    }
    let options: Vec<String> = changed
        .iter()
        .map(|(setting, value)| format!("--{} {value}", setting.replace('_', "-")))
        .collect();
    Some(format!(
        "verifies with {} (`et profile detect` writes the profile file)",
        options.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ProfileOptions;
    use crate::cli::{Cli, Command, ProfileCommand};

    fn profile_of(extra: &[&str]) -> et_proto::Profile {
        let mut args = vec!["et", "profile", "show"];
        args.extend_from_slice(extra);
        match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Profile(ProfileCommand::Show(a))) => a.profile.to_profile().unwrap(),
            other => panic!("unexpected parse: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_profile_defaults() {
        assert_eq!(profile_of(&[]), et_proto::Profile::default());
    }

    #[test]
    fn options_reach_the_profile() {
        let p = profile_of(&[
            "--sign-hash",
            "sha1",
            "--key-padding",
            "oaep-sha1",
            "--detect-key-padding",
            "--tuition-spelling",
            "tuition",
        ]);
        assert_eq!(p.sign_hash, et_crypto::SignHash::Sha1);
        assert_eq!(p.key_padding, et_crypto::KeyPadding::OaepSha1);
        assert_eq!(p.tuition_spelling, et_proto::TuitionSpelling::Tuition);
        assert!(p.detect_key_padding);
        let legacy = profile_of(&["--order-server-type", "add-special-rent-order"]);
        assert_eq!(
            legacy.server_type_for(&et_model::ServerType::CreateOrder),
            et_model::ServerType::AddSpecialRentOrder
        );
        assert_eq!(
            profile_of(&["--notify-rule", "v1-compat"]).notify_sign_rule,
            et_proto::NotifySignRule::V1Compat
        );
    }

    /// `et response open` with its required options.
    const OPEN_REPLY: [&str; 7] = [
        "et",
        "response",
        "open",
        "--merchant-key",
        "k",
        "--et-public-key",
        "k",
    ];

    /// `et notify verify` with its salt.
    const VERIFY_NOTIFICATION: [&str; 5] = ["et", "notify", "verify", "--salt", "s"];

    #[test]
    fn every_searched_setting_is_an_option_a_hint_can_name() {
        use et_proto::SettingName;
        for (command, setting) in [
            (&OPEN_REPLY[..], et_crypto::SignHash::SETTING),
            (&OPEN_REPLY[..], et_crypto::KeyPadding::SETTING),
            (&OPEN_REPLY[..], et_proto::SignRule::SETTING),
            (&OPEN_REPLY[..], et_proto::EmptySensitive::SETTING),
            (&VERIFY_NOTIFICATION[..], et_proto::NotifySignRule::SETTING),
        ] {
            let flag = format!("--{}", setting.replace('_', "-"));
            let mut args = command.to_vec();
            args.extend([flag.as_str(), "x"]);
            let message = Cli::try_parse_from(args).unwrap_err().to_string();
            assert!(
                !message.contains("unexpected argument"),
                "{flag}: {message}"
            );
        }
    }

    #[test]
    fn profile_options_appear_only_where_they_change_something() {
        let refused = |args: &[&str]| {
            let message = Cli::try_parse_from(args).unwrap_err().to_string();
            message.contains("unexpected argument")
        };
        assert!(refused(
            &[&VERIFY_NOTIFICATION[..], &["--sign-hash", "sha1"]].concat()
        ));
        assert!(refused(
            &[&OPEN_REPLY[..], &["--tuition-spelling", "tuition"]].concat()
        ));
        assert!(refused(&[
            "et",
            "request",
            "build",
            "--op",
            "get_rate",
            "--notify-sign-rule",
            "v2",
        ]));
    }
}
