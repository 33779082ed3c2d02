//! `et call`: any operation, as the merchant of a sandbox directory.

use et_http::{Client, Endpoint};
use et_model::ServerType;
use et_proto::RequestOptions;

use crate::cli::CallArgs;
use crate::envelope::{read_payloads, reply_json};
use crate::error::{CliResult, Failure};
use crate::merchant_dir::credentials;

/// Call `OP` and print `{"status_code","message","data","sensitive_data"}`,
/// as `et response open` does. Exit 1 when the answer does not verify or
/// is an error response.
pub async fn call(args: &CallArgs) -> CliResult {
    let payloads = read_payloads(&args.payloads)?;
    let endpoint =
        Endpoint::parse(&args.endpoint).map_err(|e| Failure::usage(e).context("--endpoint"))?;
    let client = Client::new(endpoint, credentials(&args.dir)?, args.profile.to_profile())
        .map_err(Failure::usage)?;
    let reply = client
        .call_raw(
            ServerType::from_code(&args.server_type),
            &payloads.data,
            &payloads.sensitive,
            &RequestOptions::default(),
        )
        .await
        .map_err(|e| match e {
            et_http::Error::Response(e) => Failure::rejected(e),
            other => Failure::usage(other),
        })?;
    crate::output::line(format_args!("{:#}", reply_json(&reply)))
}
