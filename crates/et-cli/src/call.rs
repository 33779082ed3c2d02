//! `et call`: any operation, as the merchant of a sandbox directory.

use et_http::{Client, Endpoint};

use crate::any_op::AnyOperation;
use crate::cli::CallArgs;
use crate::envelope::read_operation;
use crate::error::{CliResult, Failure};
use crate::merchant_dir::credentials;

/// Call `OP` and print `{"status_code","message","count","items"}`. The
/// items come from `sensitive_data`, or from `data` when that is empty.
/// Exit 1 when the answer does not verify or is an error response.
pub async fn call(args: &CallArgs) -> CliResult {
    let op = read_operation(args.data.as_deref(), args.sensitive.as_deref())?;
    let endpoint =
        Endpoint::parse(&args.endpoint).map_err(|e| Failure::usage(e).context("--endpoint"))?;
    let profile = AnyOperation::profile_for(args.profile.to_profile(), &args.server_type);
    let client = Client::new(endpoint, credentials(&args.dir)?, profile).map_err(Failure::usage)?;
    let reply = client.call(&op).await.map_err(|e| match e {
        et_http::Error::Response(e) => Failure::rejected(e),
        other => Failure::usage(other),
    })?;
    let printed = serde_json::json!({
        "status_code": reply.status_code.as_str(),
        "message": reply.message,
        "count": reply.count,
        "items": reply.items,
    });
    crate::output::line(format_args!("{printed:#}"))
}
