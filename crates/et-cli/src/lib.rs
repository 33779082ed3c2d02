//! The `et` command: keys, envelopes, notifications, the local sandbox, the
//! demo, and joint testing with ET (record, replay, notify send).
//!
//! This crate's one job is the command line over the lower layers. Every
//! subcommand is a function of its parsed arguments returning a `CliResult`;
//! [`main_with_args`] turns a failure into one line on stderr and an exit
//! code from one table ([`exit_codes`]: 0 verified success, 1
//! verification or decryption failed, 2 usage or I/O, 3 a verified refusal
//! from ET, 4 a receiver that did not acknowledge a notification as ET
//! expects), never a panic. Every input is read with a size bound
//! (module `input`), everything printed has its terminal control characters
//! escaped (module `output`), numbers keep their wire text, and key files are
//! written 0600 through et-sandbox's one atomic writer.
//!
//! # Map
//!
//! * [`main_with_args`]: the whole command, as the `et` binary runs it.
//! * [`exit_codes`]: the exit-code table `et --help` and the README print.
//! * [`demo`]: the order lifecycle against the local sandbox (`et demo`),
//!   public so tests run it in-process.
//!
//! The subcommands' modules are the binary's own: `call` (`et call`),
//! `envelope` (`et request build`, `et response open`), `notify` and
//! `notify_send` (`et notify …`), `sandbox` (`et sandbox …`), `record`,
//! `replay` and `profile` (joint testing), `keys` (`et keygen`),
//! `institutions`; `input` and `output` bound what is read and escape what is
//! printed. `et --help` lists every subcommand.
//!
//! ```
//! let codes: Vec<u8> = et_cli::exit_codes().map(|(code, _meaning)| code).collect();
//! assert_eq!(codes, [0, 1, 2, 3, 4]);
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

// Everything but `main_with_args`, the exit-code table and the in-process
// demo is the binary's own.
pub(crate) mod call;
pub(crate) mod cli;
pub mod demo;
pub(crate) mod envelope;
pub(crate) mod error;
pub(crate) mod inbox_cmd;
pub(crate) mod input;
pub(crate) mod institutions;
pub(crate) mod keys;
pub(crate) mod merchant_dir;
pub(crate) mod notify;
pub(crate) mod notify_send;
pub(crate) mod output;
pub(crate) mod payload;
pub(crate) mod profile;
pub(crate) mod record;
pub(crate) mod recording;
pub(crate) mod replay;
pub(crate) mod sandbox;
pub(crate) mod web_client;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::cli::{
    Cli, Command, InstitutionsCommand, NotifyCommand, ProfileCommand, RequestCommand,
    ResponseCommand, SandboxCommand,
};
pub use crate::error::exit_codes;
pub(crate) use crate::error::{CliResult, Failure};

/// Parse `args` (program name first), run the command, and report a failure
/// as one line on stderr. This is the whole `main` of the binary.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    install_panic_hook();
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if cli::is_exit_codes_topic(&args) {
        return match output::line(cli::exit_code_help()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.exit_code(),
        };
    }
    let cli = match Cli::parse_with_exit_codes(args) {
        Ok(cli) => cli,
        Err(e) => return report_clap_error(&e),
    };
    init_logging(&cli.command);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::error_line(format_args!("et: {failure}"));
            failure.exit_code()
        }
    }
}

/// Run one parsed command.
fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Keygen(args) => keys::keygen(&args),
        Command::Notify(NotifyCommand::Sign(args)) => notify::sign(&args),
        Command::Notify(NotifyCommand::Verify(args)) => notify::verify(&args),
        Command::Notify(NotifyCommand::Send(args)) => block_on(notify_send::send(&args)),
        Command::Request(RequestCommand::Build(args)) => envelope::build(&args),
        Command::Response(ResponseCommand::Open(args)) => envelope::open(&args),
        Command::Sandbox(SandboxCommand::Init(args)) => sandbox::init(&args),
        Command::Sandbox(SandboxCommand::Serve(args)) => block_on(sandbox::serve(&args)),
        Command::Sandbox(SandboxCommand::Admin(args)) => block_on(sandbox::admin(&args)),
        Command::Sandbox(SandboxCommand::Faults(args)) => block_on(sandbox::faults(&args)),
        Command::Sandbox(SandboxCommand::Rotate(args)) => sandbox::rotate(&args),
        Command::Call(args) => block_on(call::call(&args)),
        Command::Record(args) => block_on(record::record(&args)),
        Command::Replay(args) => replay::replay(&args),
        Command::Institutions(InstitutionsCommand::Search(args)) => {
            block_on(institutions::search(&args))
        }
        Command::Demo(args) => block_on(demo::command(&args)),
        Command::Profile(ProfileCommand::Show(args)) => profile::show(&args.profile),
        Command::Profile(ProfileCommand::Detect(args)) => profile::detect(&args),
        Command::Inbox(args) => block_on(inbox_cmd::command(&args)),
    }
}

/// Runs an async command on a multi-threaded tokio runtime.
fn block_on<F: std::future::Future<Output = CliResult>>(command: F) -> CliResult {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(e).context("starting the async runtime"))?
        .block_on(command)
}

/// Logs go to stderr, filtered by `RUST_LOG`. By default only `sandbox
/// serve` logs (what the sandbox does); other commands stay silent so that a
/// failure is the one line this crate prints.
fn init_logging(command: &Command) {
    let default = match command {
        Command::Sandbox(SandboxCommand::Serve(_)) | Command::Record(_) => "info",
        _ => "off",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Already set (a test harness, an embedding program): keep theirs.
    // Colour only on a terminal: a redirected log stays plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A bug must still end as one line on stderr, not a backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown panic");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        output::error_line(format_args!(
            "et: internal error{at}: {}",
            message.replace('\n', " ")
        ));
    }));
}

/// `--help` and `--version` print as clap renders them; `et` or a group
/// such as `et sandbox` alone prints its help on stderr (exit 2); a usage
/// error becomes one line: its first paragraph, clap's tips ("a similar
/// subcommand exists: 'call'"), and the help of the command it was for.
fn report_clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => match output::text(e) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                output::error_line(format_args!("et: {failure}"));
                failure.exit_code()
            }
        },
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            output::error_line(e.to_string().trim_end());
            ExitCode::from(2)
        }
        _ => {
            output::error_line(format_args!("et: {}", one_line_usage_error(&e.to_string())));
            ExitCode::from(2)
        }
    }
}

// The README's examples are doctests too, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
/// clap's rendered usage error as one line: the first paragraph
/// ("required arguments were not provided:" is followed by the arguments'
/// names on the next lines), the tips, and which `--help` to read (the
/// command of the `Usage:` line).
fn one_line_usage_error(text: &str) -> String {
    let mut paragraphs = text.split("\n\n");
    let first: Vec<&str> = paragraphs
        .next()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .collect();
    let first = first.join(" ");
    let mut line = first.strip_prefix("error: ").unwrap_or(&first).to_owned();
    let mut command = "et".to_owned();
    for paragraph in paragraphs {
        let paragraph = paragraph.trim();
        if let Some(tip) = paragraph.strip_prefix("tip: ") {
            line = format!("{line}; {tip}");
        } else if let Some(usage) = paragraph.strip_prefix("Usage: ") {
            let words: Vec<&str> = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            if !words.is_empty() {
                command = words.join(" ");
            }
        }
    }
    format!("{line} (see `{command} --help`)")
}

#[cfg(test)]
mod tests {
    use super::one_line_usage_error;

    #[test]
    fn a_usage_error_keeps_its_tip_and_points_to_its_commands_help() {
        let clap = "error: unexpected argument '--jmp' found\n\n  tip: a similar argument exists: '--jump'\n\nUsage: et demo --jump\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(clap),
            "unexpected argument '--jmp' found; a similar argument exists: '--jump' (see `et demo --help`)"
        );
    }
}
