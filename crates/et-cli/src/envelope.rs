//! `et request build` and `et response open`.

use et_model::ServerType;
use et_proto::{Credentials, Merchant, RawReply, RequestOptions};

use crate::cli::{PayloadArgs, RequestBuildArgs, ResponseOpenArgs};
use crate::error::{CliResult, Failure};
use crate::input::{read_input_or_stdin, read_json_object};
use crate::keys::{load_private, load_public};

/// `et request build`: print the signed, encrypted envelope.
pub fn build(args: &RequestBuildArgs) -> CliResult {
    let payloads = read_payloads(&args.payloads)?;
    let credentials = Credentials::new(
        &args.merchant_number,
        &args.sub_merchant_number,
        load_private(&args.merchant_key)?,
        load_public(&args.et_public_key)?,
        "",
    );
    let built = Merchant::new(credentials, args.profile.to_profile())
        .build_raw(
            ServerType::from_code(&args.server_type),
            &payloads.data,
            &payloads.sensitive,
            &RequestOptions::default(),
        )
        .map_err(Failure::usage)?;
    crate::output::line(String::from_utf8_lossy(&built.body))
}

/// The JSON text of `--data` and `--sensitive`, exactly as given (`{}` when absent).
pub struct Payloads {
    /// Goes to the envelope's `data`.
    pub data: String,
    /// Goes, encrypted, to `sensitive_data`.
    pub sensitive: String,
}

/// Read `--data` / `--sensitive`; at most one may be stdin.
pub fn read_payloads(args: &PayloadArgs) -> CliResult<Payloads> {
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
    Ok(Payloads {
        data: read(data, "--data")?,
        sensitive: read(sensitive, "--sensitive")?,
    })
}

/// `et response open`: verify, decrypt and print the response; exit 1 when
/// it does not verify or decrypt. A verified error response (e.g. `200003`)
/// prints with empty payloads and exits 0: it is ET's signed answer.
pub fn open(args: &ResponseOpenArgs) -> CliResult {
    let body = read_input_or_stdin(args.file.as_deref())?;
    let credentials = Credentials::new(
        "",
        "",
        load_private(&args.merchant_key)?,
        load_public(&args.et_public_key)?,
        "",
    );
    let merchant = Merchant::new(credentials, args.profile.to_profile());
    let printed = match merchant.open_raw(None, &body) {
        Ok(opened) => reply_json(&opened),
        Err(et_proto::Error::Api {
            code,
            message,
            authenticated: true,
        }) => serde_json::json!({
            "status_code": code.as_str(),
            "message": message,
            "data": [],
            "sensitive_data": null,
        }),
        Err(e) => return Err(Failure::rejected(e)),
    };
    crate::output::line(format_args!("{printed:#}"))
}

/// `{"status_code","message","data","sensitive_data"}` with both payloads parsed.
pub fn reply_json(opened: &RawReply) -> serde_json::Value {
    serde_json::json!({
        "status_code": opened.reply.status_code.as_str(),
        "message": opened.reply.message,
        "data": opened.reply.items,
        "sensitive_data": opened.sensitive,
    })
}
