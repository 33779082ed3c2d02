//! `et sandbox init` and `et sandbox serve`.

use et_proto::Profile;
use et_sandbox::{Exposure, InitOptions, SandboxConfig, SandboxDir};

use http::Uri;

use crate::cli::{
    AdminAction, FaultsAction, SandboxAdminArgs, SandboxFaultsArgs, SandboxInitArgs,
    SandboxRotateArgs, SandboxServeArgs, SandboxTarget,
};
use crate::error::{CliResult, Failure};
use crate::input::read_profile_file;
use crate::web_client::WebClient;

/// `et sandbox init`: ET's key pair, one merchant and the profile to play
/// in `--dir`.
pub(crate) fn init(args: &SandboxInitArgs) -> CliResult {
    let profile = match &args.profile {
        Some(path) => read_profile_file(path, "--profile")?,
        None => Profile::default(),
    };
    let options = InitOptions {
        bits: args.bits as usize,
        profile,
        ..InitOptions::default()
    };
    let merchant = SandboxDir::init(&args.dir, &options).map_err(Failure::usage)?;
    crate::output::line(format_args!(
        "sandbox state in {}: merchant {} / {}, {}-bit keys (salt in merchant.json)",
        args.dir.display(),
        merchant.merchant_number,
        merchant.sub_merchant_number,
        args.bits,
    ))
}

/// `et sandbox rotate`: new ET key and salt in the directory (`et-public.pem`,
/// `merchant.json`), the old ones accepted for `--window` seconds.
pub(crate) fn rotate(args: &SandboxRotateArgs) -> CliResult {
    let window = std::time::Duration::from_secs(args.window);
    let rotated = SandboxDir::new(&args.dir)
        .rotate(window)
        .map_err(Failure::usage)?;
    let until = rotated
        .not_after
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    crate::output::line(format_args!(
        "rotated: ET's new public key in {}, the new salt in merchant.json; \
         the old key and salt accepted until {until} (Unix time), for {}s",
        args.dir.join(et_sandbox::ET_PUBLIC_PEM).display(),
        args.window,
    ))
}

/// `et sandbox serve`: serve until Ctrl-C or SIGTERM, then shut down
/// gracefully (open connections finish; the state is all in the database).
/// `--profile` replaces the profile the directory stores first, so the
/// directory's merchant tools speak it too.
pub(crate) async fn serve(args: &SandboxServeArgs) -> CliResult {
    if let Some(path) = &args.profile {
        let profile = read_profile_file(path, "--profile")?;
        SandboxDir::new(&args.dir)
            .set_profile(&profile)
            .map_err(Failure::usage)?;
    }
    let config = SandboxConfig {
        listen: args.listen,
        time_scale: args.time_scale,
        exposure: match args.expose {
            true => Exposure::Network,
            false => Exposure::Loopback,
        },
        ..SandboxConfig::new(&args.dir)
    };
    let sandbox = et_sandbox::start(config).await.map_err(Failure::usage)?;
    let listening = crate::output::line(format_args!(
        "sandbox listening: {} (Ctrl-C or SIGTERM stops)",
        sandbox.endpoint_url()
    ))
    .and_then(|()| match sandbox.secret() {
        Some(secret) => crate::output::line(format_args!(
            "exposed beyond loopback: the dashboard is {} and `et sandbox admin|faults` need \
             ET_SANDBOX_SECRET={secret}; keep both private",
            sandbox.dashboard_url()
        )),
        None => crate::output::line(format_args!("dashboard: {}", sandbox.dashboard_url())),
    });
    let stopped = match listening {
        Ok(()) => stop_signal().await,
        Err(e) => Err(e),
    };
    sandbox.shutdown().await;
    let signal = stopped?;
    tracing::info!(signal, "sandbox stopped");
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill`, systemd and
/// container runtimes send); returns its name.
pub(crate) async fn stop_signal() -> CliResult<&'static str> {
    let failed = |e: std::io::Error| Failure::usage(e).context("listening for stop signals");
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| "SIGINT").map_err(failed),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map(|()| "Ctrl-C")
            .map_err(failed)
    }
}

/// `et sandbox admin`: one admin request over HTTP; prints the order and its
/// notifications as JSON (or the sandbox time, for a clock step). Exit 3 (a
/// refusal) when the sandbox refuses the step.
pub(crate) async fn admin(args: &SandboxAdminArgs) -> CliResult {
    let (base, browser) = admin_client(&args.target)?;
    let page = if args.reset_clock {
        browser
            .post_json(&format!("{base}/admin/clock/reset"), "{}")
            .await
    } else if let Some(seconds) = args.advance_clock {
        let url = format!("{base}/admin/clock/advance?seconds={seconds}");
        browser.post_json(&url, "{}").await
    } else if let (Some(order), Some(action)) = (&args.order_id, args.action) {
        let order = form_urlencoded::byte_serialize(order.as_bytes()).collect::<String>();
        let base = format!("{base}/admin/orders/{order}");
        match admin_path(action) {
            None => browser.get(&base).await,
            Some(action) => browser.post_json(&format!("{base}/{action}"), "{}").await,
        }
    } else {
        // clap requires both unless a clock step was asked for.
        return Err(Failure::usage("an order id and an action are needed"));
    };
    print_admin_answer(page)
}

/// `et sandbox faults`: lists, adds or clears the sandbox's fault rules;
/// prints the rules as they now are. Exit 3 when the sandbox refuses a rule.
pub(crate) async fn faults(args: &SandboxFaultsArgs) -> CliResult {
    let (base, browser) = admin_client(&args.target)?;
    let url = format!("{base}/admin/faults");
    let page = match &args.action {
        FaultsAction::List => browser.get(&url).await,
        FaultsAction::Add { rule } => browser.post_json(&url, rule).await,
        FaultsAction::Clear => browser.post_json(&format!("{url}/clear"), "{}").await,
    };
    print_admin_answer(page)
}

/// `scheme://authority` of `--endpoint`, and a client presenting the
/// secret if one was given.
fn admin_client(target: &SandboxTarget) -> Result<(String, WebClient), Failure> {
    let base = sandbox_base(&target.endpoint)?;
    let client = WebClient::new().with_bearer(target.secret.as_deref());
    Ok((base, client))
}

/// `scheme://authority` of `--endpoint`.
fn sandbox_base(endpoint: &str) -> Result<String, Failure> {
    let endpoint: Uri = endpoint
        .parse()
        .map_err(|e| Failure::usage(e).context("--endpoint"))?;
    match (endpoint.scheme_str(), endpoint.authority()) {
        (Some(scheme), Some(authority)) => Ok(format!("{scheme}://{authority}")),
        _ => Err(Failure::usage(
            "--endpoint: an absolute URL is needed, e.g. http://127.0.0.1:8877/server",
        )),
    }
}

/// Prints an admin answer's JSON; a refusal is exit 3.
fn print_admin_answer(page: Result<crate::web_client::Page, String>) -> CliResult {
    let page = page.map_err(Failure::usage)?;
    let text = page.text();
    if !page.status.is_success() {
        return Err(Failure::refused(format!(
            "sandbox answered {}: {}",
            page.status,
            text.trim()
        )));
    }
    crate::output::line(text.trim_end())
}

fn admin_path(action: AdminAction) -> Option<&'static str> {
    Some(match action {
        AdminAction::Show => return None,
        AdminAction::Pay => "pay",
        AdminAction::DeclinePayment => "decline-payment",
        AdminAction::Remit => "remit",
        AdminAction::Receive => "receive",
        AdminAction::Complete => "complete",
        AdminAction::Close => "close",
        AdminAction::RefundSucceeded => "refund-result?success=true",
        AdminAction::RefundFailed => "refund-result?success=false",
    })
}
