//! `et sandbox init` and `et sandbox serve`.

use et_sandbox::{InitOptions, Sandbox, SandboxConfig, SandboxDir};

use crate::cli::{SandboxInitArgs, SandboxServeArgs};
use crate::error::{CliResult, Failure};

/// `et sandbox init`: ET's key pair and one merchant in `--dir`.
pub fn init(args: &SandboxInitArgs) -> CliResult {
    let options = InitOptions { bits: args.bits as usize, ..InitOptions::default() };
    let merchant = SandboxDir::init(&args.dir, &options).map_err(Failure::usage)?;
    println!(
        "sandbox state in {}: merchant {} / {}, {}-bit keys (salt in merchant.json)",
        args.dir.display(),
        merchant.merchant_number,
        merchant.sub_merchant_number,
        args.bits,
    );
    Ok(())
}

/// `et sandbox serve`: serve until Ctrl-C, then shut down gracefully.
pub async fn serve(args: &SandboxServeArgs) -> CliResult {
    let config = SandboxConfig { dir: args.dir.clone(), listen: args.listen, time_scale: args.time_scale };
    let sandbox = Sandbox::start(config).await.map_err(Failure::usage)?;
    println!("sandbox listening: {} (Ctrl-C stops)", sandbox.endpoint_url());
    let stopped = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    stopped.map_err(|e| Failure::usage(e).context("waiting for Ctrl-C"))
}
