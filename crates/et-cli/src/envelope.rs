//! `et request build` and `et response open`.

use et_model::{RawJson, ServerType};
use et_proto::{Credentials, Merchant, Profile, RequestOptions, UntypedReply};
use serde::Serialize;
use std::time::SystemTime;

use crate::cli::{PayloadArgs, RequestBuildArgs, ResponseOpenArgs};
use crate::error::{verified_refusal, CliResult, Failure};
use crate::input::{read_input_or_stdin, read_json_object, Input};
use crate::profile::ProfileOptions;

/// `et request build`: print the signed, encrypted envelope.
pub(crate) fn build(args: &RequestBuildArgs) -> CliResult {
    let profile = args.profile.to_profile()?;
    let server_type = ServerType::from_code(&args.server_type);
    let payloads = read_payloads(&args.payloads, &profile, &server_type)?;
    let (merchant_key, et_public) = args.keys.load()?;
    let credentials = Credentials::new(
        &args.merchant_number,
        &args.sub_merchant_number,
        merchant_key,
        et_public,
        "",
    );
    let built = Merchant::new(credentials, profile)
        .build_untyped(
            server_type,
            &payloads.data,
            &payloads.sensitive,
            &RequestOptions::default(),
            SystemTime::now(),
        )
        .map_err(Failure::usage)?;
    crate::output::line(String::from_utf8_lossy(&built.body))
}

/// The JSON text of `--data` and `--sensitive`, exactly as given (`{}` when absent).
pub(crate) struct Payloads {
    /// Goes to the envelope's `data`.
    pub data: String,
    /// Goes, encrypted, to `sensitive_data`.
    pub sensitive: String,
}

/// Read `--data` / `--sensitive` (at most one may be stdin) and, unless
/// `--no-validate`, check them as the typed API checks the operation
/// `server_type` selects under `profile` (`et_proto::validate_untyped`).
pub(crate) fn read_payloads(
    args: &PayloadArgs,
    profile: &Profile,
    server_type: &ServerType,
) -> CliResult<Payloads> {
    let (data, sensitive) = (args.data.as_deref(), args.sensitive.as_deref());
    let is_stdin = |p: Option<&std::path::Path>| p.is_some_and(|p| p.as_os_str() == "-");
    if is_stdin(data) && is_stdin(sensitive) {
        return Err(Failure::usage(
            "--data and --sensitive cannot both be stdin (-)",
        ));
    }
    let read = |path, option| {
        read_json_object(path, option).map(|text| text.unwrap_or_else(|| "{}".to_owned()))
    };
    let payloads = Payloads {
        data: read(data, "--data")?,
        sensitive: read(sensitive, "--sensitive")?,
    };
    if !args.no_validate {
        et_proto::validate_untyped(profile, server_type, &payloads.data, &payloads.sensitive)
            .map_err(|e| {
                Failure::usage(e).context(format_args!(
                    "{} not sent (--no-validate sends it anyway)",
                    server_type.as_str()
                ))
            })?;
    }
    Ok(payloads)
}

/// `et response open`: verify, decrypt and print the response. The exit
/// code is [`print_opened`]'s, the same as `et call`'s.
pub(crate) fn open(args: &ResponseOpenArgs) -> CliResult {
    let body = read_input_or_stdin(args.file.as_deref(), Input::Response)?;
    let (merchant_key, et_public) = args.keys.load()?;
    let profile = args.profile.to_profile()?;
    let credentials = Credentials::new("", "", merchant_key.clone(), et_public.clone(), "");
    let merchant = Merchant::new(credentials, profile.clone());
    print_opened(merchant.open_untyped(None, &body, SystemTime::now())).map_err(|failure| {
        // A reply that does not verify or open under these settings: say
        // which settings it would (the search `et profile detect` runs).
        let found = et_proto::detect::reply(&profile, &merchant_key, &et_public, &body).ok();
        failure.hint(crate::profile::verifies_with(found, &profile))
    })
}

/// Prints an opened response as `{"status_code","message","data","sensitive_data"}`,
/// payloads in their exact wire text, plus `version` and the keys ET added
/// (`added`, as received) when there are any, and returns the exit code of the
/// table: 0 for a verified success; 3 for a verified refusal, which is
/// printed too (empty payloads), ET's signed answer; 1 when the response
/// did not verify, decrypt or parse.
pub(crate) fn print_opened(opened: Result<UntypedReply, et_proto::Error>) -> CliResult {
    let refusal = match opened {
        Ok(opened) => {
            return crate::output::json(&Printed {
                status_code: opened.reply.status_code.as_str(),
                message: &opened.reply.message,
                data: &opened.reply.items,
                sensitive_data: opened.sensitive.as_ref(),
                version: opened.reply.version.as_deref(),
                added: opened
                    .reply
                    .extra
                    .iter()
                    .map(|(key, value)| (key, value.text()))
                    .collect(),
            })
        }
        Err(e) => e,
    };
    if let Some((code, message)) = verified_refusal(&refusal) {
        crate::output::json(&Printed {
            status_code: code.as_str(),
            message,
            data: &[],
            sensitive_data: None,
            version: None,
            added: Default::default(),
        })?;
    }
    Err(Failure::answer(refusal))
}

/// What `et response open` and `et call` print.
#[derive(Serialize)]
struct Printed<'a> {
    status_code: &'a str,
    message: &'a str,
    data: &'a [RawJson],
    sensitive_data: Option<&'a RawJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    added: std::collections::BTreeMap<&'a str, &'a str>,
}
