//! From the command line's Profile options to [`et_proto::Profile`].

use et_crypto::{KeyPadding, SignHash};
use et_model::{CreateOrder, ServerType};
use et_proto::{CallbackEncoding, EmptySensitive, NotifySignRule, Profile, SignRule};

use crate::cli::{
    CallbackProcessArg, EmptySensitiveArg, KeyPaddingArg, NotifyRuleArg, OrderServerTypeArg,
    ProfileArgs, SignHashArg, SignRuleArg,
};

impl ProfileArgs {
    /// The Profile these options describe; everything not named keeps its default.
    pub(crate) fn to_profile(&self) -> Profile {
        let profile = Profile {
            sign_hash: match self.sign_hash {
                SignHashArg::Sha256 => SignHash::Sha256,
                SignHashArg::Sha1 => SignHash::Sha1,
            },
            key_padding: match self.key_padding {
                KeyPaddingArg::Pkcs1 => KeyPadding::Pkcs1v15,
                KeyPaddingArg::OaepSha256 => KeyPadding::OaepSha256,
                KeyPaddingArg::OaepSha1 => KeyPadding::OaepSha1,
                KeyPaddingArg::OaepSha256Mgf1Sha1 => KeyPadding::OaepSha256Mgf1Sha1,
            },
            detect_key_padding: self.detect_key_padding,
            sign_rule: match self.sign_rule {
                SignRuleArg::AllSorted => SignRule::AllSorted,
                SignRuleArg::SkipEmpty => SignRule::SkipEmpty,
            },
            empty_sensitive: match self.empty_sensitive {
                EmptySensitiveArg::EmptyString => EmptySensitive::EmptyString,
                EmptySensitiveArg::EncryptEmptyList => EmptySensitive::EncryptEmptyList,
            },
            callback_process: match self.callback_process {
                CallbackProcessArg::Integer => CallbackEncoding::Integer,
                CallbackProcessArg::String => CallbackEncoding::String,
                CallbackProcessArg::Empty => CallbackEncoding::Empty,
            },
            version: self.api_version.clone(),
            notify_sign_rule: match self.notify_rule {
                NotifyRuleArg::V2 => NotifySignRule::V2,
                NotifyRuleArg::V1Compat => NotifySignRule::V1Compat,
            },
            ..Profile::default()
        };
        match self.order_server_type {
            OrderServerTypeArg::CreateOrder => profile,
            OrderServerTypeArg::AddSpecialRentOrder => {
                profile.with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command, NotifyCommand};

    fn profile_of(extra: &[&str]) -> et_proto::Profile {
        let mut args = vec!["et", "notify", "verify", "--salt", "s"];
        args.extend_from_slice(extra);
        match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Notify(NotifyCommand::Verify(a))) => a.profile.to_profile(),
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
        ]);
        assert_eq!(p.sign_hash, et_crypto::SignHash::Sha1);
        assert_eq!(p.key_padding, et_crypto::KeyPadding::OaepSha1);
        assert!(p.detect_key_padding);
        let legacy = profile_of(&["--order-server-type", "add-special-rent-order"]);
        assert_eq!(
            legacy.server_type_for(&et_model::ServerType::CreateOrder),
            et_model::ServerType::AddSpecialRentOrder
        );
    }
}
