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
        Err(other) => {
            let reached = other.may_have_reached_et();
            let hint = reached.then(|| {
                how_to_find_out(client.merchant().profile(), &args.server_type, &payloads)
            });
            Err(Failure::call(other).hint(hint.flatten()))
        }
    }
}

/// After a failure that may have reached ET: whether sending again is
/// safe, and for a call that creates something, how to find out whether
/// it was created.
fn how_to_find_out(
    profile: &et_proto::Profile,
    server_type: &str,
    payloads: &crate::envelope::Payloads,
) -> Option<String> {
    let effect = payload::effect(profile, &ServerType::from_code(server_type))?;
    if effect.is_repeatable() {
        return Some(format!(
            "{server_type} changes nothing more when sent again: sending it again is safe"
        ));
    }
    let merchant_order_id = [&payloads.data, &payloads.sensitive]
        .into_iter()
        .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .find_map(|v| v.get("merchant_order_id")?.as_str().map(str::to_owned));
    let resend = match (&merchant_order_id, profile.duplicate_order_code.is_some()) {
        (Some(id), true) => format!(
            "; sending it again as it is (merchant_order_id {id}) is safe under this profile: \
             ET refuses a second order with the same merchant_order_id and names the first"
        ),
        (Some(id), false) => format!(
            " (look for merchant_order_id {id}: its notifications, ET's merchant portal, \
             the sandbox's dashboard)"
        ),
        (None, _) => String::new(),
    };
    Some(format!(
        "do not send a new {server_type} before finding out whether the first was done: \
         query the order (et call batch_special_query_order_info) once you know its id{resend}"
    ))
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
