//! `et sandbox init` and `et sandbox serve`.

use et_proto::Profile;
use et_sandbox::{AdminAction, Exposure, InitOptions, SandboxConfig, SandboxDir};

use http::Uri;

use crate::cli::{
    FaultsAction, SandboxAdminArgs, SandboxFaultsArgs, SandboxInitArgs, SandboxRotateArgs,
    SandboxServeArgs, SandboxTarget,
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
    let dir = SandboxDir::new(&args.dir);
    dir.write_salt_file().map_err(Failure::usage)?;
    crate::output::line(format_args!(
        "sandbox state in {}: merchant {} / {}, {}-bit keys (salt in {}, for --salt-file)",
        args.dir.display(),
        merchant.merchant_number,
        merchant.sub_merchant_number,
        args.bits,
        dir.file(et_sandbox::SALT_TXT).display(),
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
    crate::merchant_dir::check_state_dir(&args.dir)?;
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
        tls: args.tls,
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
    })
    .and_then(|()| match sandbox.tls_certificate_pem() {
        Some(_) => crate::output::line(format_args!(
            "HTTPS with the certificate in {}: clients trust it as a root \
             (`et sandbox admin --tls-root`, et-http's `add_root_certificates_pem`)",
            SandboxDir::new(&args.dir)
                .file(et_sandbox::TLS_CERT_PEM)
                .display()
        )),
        None => Ok(()),
    })
    .and_then(|()| merchant_line(&args.dir));
    let stopped = match listening {
        Ok(()) => stop_signal().await,
        Err(e) => Err(e),
    };
    sandbox.shutdown().await;
    let signal = stopped?;
    tracing::info!(signal, "sandbox stopped");
    Ok(())
}

/// Who the served directory's merchant is and where its credentials are,
/// for `et call --dir` and the library.
fn merchant_line(dir: &std::path::Path) -> CliResult {
    let m = SandboxDir::new(dir).merchant().map_err(Failure::usage)?;
    let file = |name| dir.join(name).display().to_string();
    crate::output::line(format_args!(
        "merchant {} / {}: private key {}, ET's public key {}, salt in {}",
        m.merchant_number,
        m.sub_merchant_number,
        file(et_sandbox::MERCHANT_PRIVATE_PEM),
        file(et_sandbox::ET_PUBLIC_PEM),
        file(et_sandbox::MERCHANT_JSON),
    ))
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
    let action = if args.reset_clock {
        AdminAction::ResetClock
    } else if let Some(seconds) = args.advance_clock {
        AdminAction::AdvanceClock { seconds }
    } else if let (Some(order), Some(name)) = (&args.order_id, &args.action) {
        AdminAction::on_order(order, name).map_err(Failure::usage)?
    } else {
        // clap requires both unless a clock step was asked for.
        return Err(Failure::usage("an order id and an action are needed"));
    };
    send_admin(
        &args.target,
        action.method(),
        &action.path(),
        &action.body(),
    )
    .await
}

/// `et sandbox faults`: lists, adds or clears the sandbox's fault rules;
/// prints the rules as they now are. Exit 3 when the sandbox refuses a rule.
pub(crate) async fn faults(args: &SandboxFaultsArgs) -> CliResult {
    let (action, body) = match &args.action {
        FaultsAction::List => (AdminAction::ListFaults, "{}"),
        // AddFault's route, with the rule as given: the sandbox says what
        // is wrong with it.
        FaultsAction::Add { rule } => (AdminAction::ListFaults, rule.as_str()),
        FaultsAction::Clear => (AdminAction::ClearFaults, "{}"),
    };
    let method = match &args.action {
        FaultsAction::Add { .. } => http::Method::POST,
        _ => action.method(),
    };
    send_admin(&args.target, method, &action.path(), body).await
}

/// Sends an admin request (with `body`, for a `POST`) to the sandbox and
/// prints its answer.
async fn send_admin(
    target: &SandboxTarget,
    method: http::Method,
    path: &str,
    body: &str,
) -> CliResult {
    let (base, browser) = admin_client(target)?;
    let url = format!("{base}{path}");
    let page = match method {
        http::Method::GET => browser.get(&url).await,
        _ => browser.post_json(&url, body).await,
    };
    print_admin_answer(page)
}

/// `scheme://authority` of `--endpoint`, and a client presenting the
/// secret if one was given.
fn admin_client(target: &SandboxTarget) -> Result<(String, WebClient), Failure> {
    let endpoint = target.endpoint.as_deref().ok_or_else(|| {
        Failure::usage(
            "--endpoint (or ET_ENDPOINT) is needed: the sandbox's URL, such as http://127.0.0.1:8877",
        )
    })?;
    let base = sandbox_base(endpoint)?;
    let root = match &target.tls_root {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(e).context("reading --tls-root"))?,
        ),
        None => None,
    };
    let client = WebClient::new(root.as_deref())
        .map_err(Failure::usage)?
        .with_bearer(target.secret.as_deref());
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

/// Prints an admin answer's JSON, indented; a refusal is exit 3, in words:
/// the sandbox's code and message, not its JSON.
fn print_admin_answer(
    page: Result<crate::web_client::Page, crate::web_client::WebError>,
) -> CliResult {
    let page = page.map_err(Failure::usage)?;
    let text = page.text();
    if !page.status.is_success() {
        return Err(Failure::refused(format!(
            "the sandbox refused ({}): {}",
            page.status,
            refusal_words(&text)
        )));
    }
    crate::output::json_text(&text)
}

/// A sandbox refusal's words: `message (status_code)` from its JSON, or its
/// text as it is.
fn refusal_words(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Refusal {
        status_code: Option<String>,
        message: String,
    }
    match serde_json::from_str::<Refusal>(text) {
        Ok(Refusal {
            status_code: Some(code),
            message,
        }) => format!("{message} ({code})"),
        Ok(Refusal { message, .. }) => message,
        Err(_) => text.trim().to_owned(),
    }
}
