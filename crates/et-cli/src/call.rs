//! `et call`: any operation, as the merchant of a sandbox directory.

use et_model::ServerType;
use et_proto::RequestOptions;

use crate::cli::CallArgs;
use crate::envelope::{print_opened, read_payloads};
use crate::error::{CliResult, Failure};
use crate::input::{read_input, Input};
use crate::profile::ProfileOptions;
use crate::{merchant_dir, payload};

/// Call `OP` and print `{"status_code","message","data","sensitive_data"}`,
/// with the same output and exit code as `et response open`
/// ([`print_opened`]); 2 when the request could not be made or sent.
/// With `--template`, print a payload of OP's required fields instead.
pub(crate) async fn call(args: &CallArgs) -> CliResult {
    let server_type = ServerType::from_code(&args.server_type);
    if args.template {
        return template(args, &server_type);
    }
    let client = merchant_dir::client(&args.merchant, &args.profile)?;
    let payloads = match &args.payload {
        Some(path) => {
            let bytes = read_input(path, Input::Payload)?;
            let shown = match path.as_os_str() == "-" {
                true => "stdin".to_owned(),
                false => path.display().to_string(),
            };
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::usage(format_args!("{shown}: not UTF-8")))?;
            let no_validate = args.payloads.no_validate;
            payload::split(client.merchant(), &server_type, &text, &shown, no_validate)?
        }
        None => read_payloads(&args.payloads, client.merchant().profile(), &server_type)?,
    };
    let answer = client
        .call_untyped(
            server_type,
            &payloads.data,
            &payloads.sensitive,
            &RequestOptions::default(),
        )
        .await;
    match answer {
        Ok(reply) => print_opened(Ok(reply)),
        Err(et_http::Error::Response(e)) => print_opened(Err(e)),
        Err(other) => Err(Failure::call(other)),
    }
}

/// `et call OP --template`: the payload on stdout, the other fields OP
/// reads on stderr. The profile (the directory's, when given) decides
/// which operation OP names.
fn template(args: &CallArgs, server_type: &ServerType) -> CliResult {
    let profile = match &args.merchant.dir {
        Some(dir) => merchant_dir::profile(dir, &args.profile)?,
        None => args.profile.to_profile()?,
    };
    let (template, others) = payload::template(&profile, server_type)?;
    crate::output::line(template)?;
    if !others.is_empty() {
        crate::output::error_line(format_args!(
            "et: {} also reads: {}",
            server_type.as_str(),
            others.join(", ")
        ));
    }
    Ok(())
}
