//! `et call`: any operation, as the merchant of a sandbox directory.

use et_http::{Client, Endpoint};
use et_model::ServerType;
use et_proto::RequestOptions;

use crate::cli::CallArgs;
use crate::envelope::{print_opened, read_payloads};
use crate::error::{CliResult, Failure};
use crate::merchant_dir;

/// Call `OP` and print `{"status_code","message","data","sensitive_data"}`,
/// with the same output and exit code as `et response open`
/// ([`print_opened`]); 2 when the request could not be made or sent.
pub(crate) async fn call(args: &CallArgs) -> CliResult {
    let profile = merchant_dir::profile(&args.dir, &args.profile)?;
    let server_type = ServerType::from_code(&args.server_type);
    let payloads = read_payloads(&args.payloads, &profile, &server_type)?;
    let endpoint =
        Endpoint::parse(&args.endpoint).map_err(|e| Failure::usage(e).context("--endpoint"))?;
    let client = Client::new(
        endpoint,
        merchant_dir::credentials(&args.dir, None)?,
        profile,
    )
    .map_err(Failure::usage)?;
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
